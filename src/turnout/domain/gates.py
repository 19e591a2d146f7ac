"""Rollout gates: "the canary is no worse than stable", metric by metric, checked anytime.

A gate is a metric and one tolerance against the stable arm measured over the same
period (concurrent control), never an absolute threshold: an absolute "error rate <
5 %" rolls a healthy canary back during a provider-wide incident. The controller
evaluates every gate after every batch, so each uses an anytime-valid test from
:mod:`turnout.domain.sequential`:

* ``error_rate`` with ``max_ratio`` (the default): the count e-process of Lindon &
  Malek (NeurIPS 2022) over per-step :class:`CountSegment` s. Harm when the e-value
  reaches 1/alpha. Exact at any sample size, so harm needs no minimum sample.
* ``error_rate`` with ``max_increase`` (a fraction: 0.01 = 1 pp): an asymptotic
  confidence sequence on the difference of the arms' error proportions.
* ``latency_mean``, ``cost_per_request``, ``quality``: an asymptotic confidence
  sequence (Waudby-Smith et al., arXiv:2103.06476) on canary - stable means (for
  ``max_increase`` / ``max_decrease``) or on log(canary mean / stable mean) by the
  delta method (for ``max_ratio``), from :class:`~turnout.domain.sequential.Moments`
  that SQL aggregates can build. Harm when the whole interval lies beyond the
  tolerance.
* Quantiles (``latency_p50/p95``, ``ttft_p50/p95``) are tested by *exceedance*:
  "canary q-quantile <= max_ratio x stable q-quantile" holds exactly when at most a
  fraction 1 - q of canary requests are slower than max_ratio x (stable's
  q-quantile). So the gate counts the canary sample above that threshold, taken at
  the stable sample's running quantile, and compares the fraction with 1 - q by an
  asymptotic confidence sequence whose variance q (1 - q) (1/n_c + 1/n_s) covers both
  the canary's binomial noise and the error of the stable quantile (at the null
  boundary the two are the same size). ``max_increase`` uses stable quantile +
  increase as the threshold. The interval reported is the matching one for the
  quantile ratio (or difference), read off the canary's order statistics.

Continuous metrics use successful requests only: a failed call's latency is the
time to fail, which would make a crashing canary look fast; errors are the error
gate's business. Quality is the mean per-request score in [0, 1] (feedback and online
scorers); higher is better, every other metric lower is better.

Several gates share alpha by Bonferroni (alpha / number of gates each), so the
chance that *any* gate falsely reports harm during the whole rollout stays <= alpha.
An arm with too few samples for a metric gives ``insufficient``, never ``harm``
("no data yet" caused false rollbacks in Flagger #1501 and Argo Rollouts #1466),
and a canary with no successful request is never ``ok`` (Argo Rollouts #4479).

The gate vocabulary (:class:`GateSpec`, :class:`Metric`, ``DEFAULT_GATES``) lives in
:mod:`turnout.domain.gate_spec` and is re-exported here.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from turnout.domain.gate_spec import DEFAULT_GATES, GateSpec, Metric, Tolerance
from turnout.domain.sequential import (
    EventSegment,
    Moments,
    compare_quantiles,
    count_log_e_value,
    log_mean_ratio_cs,
    mean_difference_cs,
    proportion_difference_cs,
)
from turnout.errors import InvalidInput

__all__ = [
    "DEFAULT_GATES",
    "DEFAULT_MIN_SAMPLES",
    "DEFAULT_TARGET_N",
    "ArmObservations",
    "CountSegment",
    "Decision",
    "Evidence",
    "GateResult",
    "GateSpec",
    "Metric",
    "Tolerance",
    "Verdict",
    "decide",
    "evaluate_gates",
]

DEFAULT_MIN_SAMPLES = 100
"""Values each arm needs before an asymptotic gate may say ok or harm.

The confidence sequences lean on a normal approximation and a plug-in variance;
below ~100 values a skewed metric (a 0/1 quality score near 0.9, a long latency tail)
misleads them. Quantile gates also want ~10 values expected above the quantile, so a
p95 gate asks for max(this, 200). The count test is exact and may report harm at any
count; it only needs this many requests per arm to report ok.
"""

DEFAULT_TARGET_N = 500
"""Effective sample size (n_c n_s / (n_c + n_s)) where the confidence sequences are
tightest: ~1,000 canary values against a control slice of the same size, about where
a 0.1 drop in a 0/1 quality score becomes visible. Elsewhere they are wider only by a
slowly growing log factor.
"""


@dataclass(frozen=True, slots=True)
class ArmObservations:
    """One arm's data since the rollout started, as the gates read it.

    ``requests`` and ``errors`` count every request; the moments cover successful
    requests that have the value (latency, ttft, cost; quality where a score exists)
    and can come straight from ``COUNT``/``SUM``/``SUM(x*x)``. The samples feed the
    quantile gates: keep them *nested* (e.g. the first K values by request id, not a
    fresh random draw per look) and bounded (a few thousand).

    For the stable arm, a control slice the size of the canary's share (stable
    requests whose sticky bucket sits next to the canary's) is the fairest
    comparison: both arms then see the same mix of hours, so a drift in latency or
    quality during the rollout hits both alike. The whole stable arm is fine for
    metrics that do not drift, but it is weighted towards the early, small-share steps.
    """

    requests: int = 0
    errors: int = 0
    latency_ms: Moments = field(default_factory=Moments)
    ttft_ms: Moments = field(default_factory=Moments)
    cost_usd: Moments = field(default_factory=Moments)
    quality: Moments = field(default_factory=Moments)
    latency_sample: tuple[float, ...] = ()
    ttft_sample: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.errors <= self.requests:
            raise InvalidInput(
                f"arm observations need 0 <= errors <= requests, got {self.errors} errors "
                f"in {self.requests} requests"
            )

    @property
    def successes(self) -> int:
        return self.requests - self.errors


@dataclass(frozen=True, slots=True)
class CountSegment:
    """Errors in each arm while the canary had ``share`` of the traffic (one step).

    ``share`` is the probability a request went to the canary in that step (its
    weight, 0.01 for 1 %); ``stable_errors`` counts the whole stable arm. Under no harm
    errors follow requests, so if sticky keys make the realised share (canary requests
    / all requests of the step) drift from the weight — a few heavy users — pass the
    realised share instead.
    """

    share: float
    canary_errors: int
    stable_errors: int

    def __post_init__(self) -> None:
        if not 0.0 < self.share < 1.0:
            raise InvalidInput(
                f"count segment share must be strictly between 0 and 1 (0.01 = 1 %), got "
                f"{self.share}; a 100 % step has no stable arm to compare with"
            )
        if self.canary_errors < 0 or self.stable_errors < 0:
            raise InvalidInput("count segment error counts must not be negative")


@dataclass(frozen=True, slots=True)
class Evidence:
    """Both arms pooled from the rollout's start, and the error counts per step.

    ``segments`` must cover every step since the start, the current one included (its
    counts so far); with none, the error count test sees no evidence either way.
    """

    canary: ArmObservations
    stable: ArmObservations
    segments: tuple[CountSegment, ...] = ()


class Verdict(enum.StrEnum):
    """One gate's answer: no harm shown with enough data, harm, or not enough data yet."""

    OK = "ok"
    HARM = "harm"
    INSUFFICIENT = "insufficient"


class Decision(enum.StrEnum):
    """What the rollout should do after a look; the state machine applies it."""

    ADVANCE = "advance"
    HOLD = "hold"
    ROLLBACK = "rollback"


@dataclass(frozen=True, slots=True)
class GateResult:
    """One gate's verdict with the numbers behind it, for the log, the UI and JSON.

    ``estimate``/``interval`` are on the tolerance's scale (a ratio for max_ratio, a
    difference otherwise); the interval is the anytime-valid one at the gate's
    ``alpha`` and may be unbounded (``inf``) on the side the data cannot pin down yet.
    The count test reports ``e_value`` instead (harm when >= 1/alpha).
    """

    metric: Metric
    tolerance: str
    verdict: Verdict
    estimate: float | None
    interval: tuple[float, float] | None
    e_value: float | None
    samples: tuple[int, int]
    alpha: float
    summary: str

    def to_dict(self) -> dict[str, object]:
        return {
            "metric": self.metric.value,
            "tolerance": self.tolerance,
            "verdict": self.verdict.value,
            "estimate": _finite(self.estimate),
            "interval": None if self.interval is None else [_finite(x) for x in self.interval],
            "e_value": _finite(self.e_value),
            "samples": {"canary": self.samples[0], "stable": self.samples[1]},
            "alpha": self.alpha,
            "summary": self.summary,
        }


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


# --- evaluation -----------------------------------------------------------------------


def evaluate_gates(
    gates: Sequence[GateSpec],
    evidence: Evidence,
    alpha: float = 0.05,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    target_n: int = DEFAULT_TARGET_N,
) -> tuple[GateResult, ...]:
    """Evaluate every gate on the evidence so far, each at ``alpha / len(gates)``.

    Call it after every batch: each test is anytime-valid, and Bonferroni keeps the
    chance that any gate ever falsely reports harm, over the whole rollout, <= alpha.
    """
    if not gates:
        raise InvalidInput("a rollout needs at least one gate (see DEFAULT_GATES)")
    if not 0.0 < alpha < 1.0:
        raise InvalidInput(f"alpha must be between 0 and 1, got {alpha}")
    if min_samples < 1 or target_n < 1:
        raise InvalidInput("min_samples and target_n must be at least 1")
    share = alpha / len(gates)
    return tuple(_evaluate(gate, evidence, share, min_samples, target_n) for gate in gates)


def decide(results: Sequence[GateResult], requirements_met: bool) -> Decision:
    """Roll back on any harm; advance only when every gate is ok and the step is done.

    ``requirements_met`` is the state machine's part (minimum duration and samples of
    the step, approvals). Any ``insufficient`` gate holds: the canary must show it
    works, not merely fail to show it is broken, so a canary with no successful
    request never advances (its error gate is never ok, its latency and quality gates
    have no samples). No gates at all also holds, for the same reason.
    """
    if any(result.verdict is Verdict.HARM for result in results):
        return Decision.ROLLBACK
    if not requirements_met or not results:
        return Decision.HOLD
    if all(r.verdict is Verdict.OK and r.samples[0] > 0 for r in results):
        return Decision.ADVANCE
    return Decision.HOLD


def _evaluate(
    gate: GateSpec, evidence: Evidence, alpha: float, min_samples: int, target_n: int
) -> GateResult:
    kind, _ = gate.tolerance
    if gate.metric is Metric.ERROR_RATE:
        if kind is Tolerance.MAX_RATIO:
            return _error_ratio(gate, evidence, alpha, min_samples)
        return _error_increase(gate, evidence, alpha, min_samples, target_n)
    if gate.metric.quantile is not None:
        return _quantile(gate, evidence, alpha, min_samples, target_n)
    return _mean(gate, evidence, alpha, min_samples, target_n)


def _result(
    gate: GateSpec,
    verdict: Verdict,
    samples: tuple[int, int],
    alpha: float,
    detail: str,
    estimate: float | None = None,
    interval: tuple[float, float] | None = None,
    e_value: float | None = None,
) -> GateResult:
    summary = f"{gate.metric}: {detail} -> {verdict}"
    return GateResult(
        gate.metric, gate.describe(), verdict, estimate, interval, e_value, samples, alpha, summary
    )


def _too_few(gate: GateSpec, samples: tuple[int, int], need: int, alpha: float) -> GateResult:
    what = "requests" if gate.metric is Metric.ERROR_RATE else "values"
    detail = f"{samples[0]} canary / {samples[1]} stable {what}, need {need} each"
    return _result(gate, Verdict.INSUFFICIENT, samples, alpha, detail)


def _show(metric: Metric, value: float, sign: str = "") -> str:
    """A value (or, with ``sign="+"``, a difference) in the metric's unit."""
    if metric is Metric.ERROR_RATE:
        return f"{value * 100:{sign}.2f} pp" if sign else f"{value:.1%}"
    if metric is Metric.QUALITY:
        return f"{value:{sign}.3f}"
    if metric.unit == "ms":
        return f"{value:{sign},.0f} ms" if abs(value) >= 100 else f"{value:{sign}.1f} ms"
    return f"{value:{sign}.3g} {metric.unit}"


def _compared(gate: GateSpec, canary: float, stable: float, prefix: str = "") -> str:
    m = gate.metric
    return f"canary {prefix}{_show(m, canary)} vs stable {prefix}{_show(m, stable)}"


def _ratio_detail(gate: GateSpec, head: str, estimate: float, low: float, high: float) -> str:
    return f"{head} (ratio {estimate:.2f}, CS {low:.2f}..{high:.2f} vs {gate.describe()})"


def _difference_detail(gate: GateSpec, head: str, estimate: float, low: float, high: float) -> str:
    m = gate.metric
    return (
        f"{head} (diff {_show(m, estimate, '+')}, "
        f"CS {_show(m, low, '+')}..{_show(m, high, '+')} vs {gate.describe()})"
    )


def _error_verdict(harm: bool, canary: ArmObservations, detail: str) -> tuple[Verdict, str]:
    if harm:
        return Verdict.HARM, detail
    if canary.successes == 0:
        return Verdict.INSUFFICIENT, f"{detail}; no successful canary request yet"
    return Verdict.OK, detail


def _error_ratio(gate: GateSpec, ev: Evidence, alpha: float, min_samples: int) -> GateResult:
    canary, stable = ev.canary, ev.stable
    samples = (canary.requests, stable.requests)
    segments = [EventSegment(s.share, s.canary_errors, s.stable_errors) for s in ev.segments]
    log_e = count_log_e_value(segments, gate.tolerance[1])
    harm = log_e >= -math.log(alpha)
    if not harm and min(samples) < min_samples:
        return _too_few(gate, samples, min_samples, alpha)
    rate_c = canary.errors / canary.requests if canary.requests else 0.0
    rate_s = stable.errors / stable.requests if stable.requests else 0.0
    ratio = rate_c / rate_s if rate_s > 0 else None
    e_value = math.exp(log_e)
    detail = (
        f"{_compared(gate, rate_c, rate_s)} (ratio "
        f"{'n/a' if ratio is None else f'{ratio:.2f}'}, "
        f"e={e_value:.3g} {'>=' if harm else '<'} {1.0 / alpha:.3g})"
    )
    verdict, detail = _error_verdict(harm, canary, detail)
    return _result(gate, verdict, samples, alpha, detail, ratio, None, e_value)


def _error_increase(
    gate: GateSpec, ev: Evidence, alpha: float, min_samples: int, target_n: int
) -> GateResult:
    canary, stable = ev.canary, ev.stable
    samples = (canary.requests, stable.requests)
    if min(samples) < min_samples:
        return _too_few(gate, samples, min_samples, alpha)
    cs = proportion_difference_cs(
        canary.errors, canary.requests, stable.errors, stable.requests, alpha, target_n
    )
    head = _compared(gate, canary.errors / canary.requests, stable.errors / stable.requests)
    detail = _difference_detail(gate, head, cs.estimate, cs.low, cs.high)
    verdict, detail = _error_verdict(cs.low > gate.tolerance[1], canary, detail)
    return _result(gate, verdict, samples, alpha, detail, cs.estimate, (cs.low, cs.high))


def _quantile(
    gate: GateSpec, ev: Evidence, alpha: float, min_samples: int, target_n: int
) -> GateResult:
    metric, q = gate.metric, gate.metric.quantile
    assert q is not None
    ttft = metric in (Metric.TTFT_P50, Metric.TTFT_P95)
    canary = ev.canary.ttft_sample if ttft else ev.canary.latency_sample
    stable = ev.stable.ttft_sample if ttft else ev.stable.latency_sample
    samples = (len(canary), len(stable))
    need = max(min_samples, math.ceil(10.0 / (1.0 - q)))
    if min(samples) < need:
        return _too_few(gate, samples, need, alpha)
    kind, value = gate.tolerance
    ratio, increase = (value, 0.0) if kind is Tolerance.MAX_RATIO else (1.0, value)
    cmp = compare_quantiles(sorted(canary), sorted(stable), q, alpha, target_n, ratio, increase)
    verdict = Verdict.HARM if cmp.harm else Verdict.OK
    base = cmp.stable_quantile
    head = _compared(gate, cmp.canary_quantile, base, f"p{round(q * 100)} ")
    if kind is Tolerance.MAX_INCREASE:
        estimate, low, high = (
            cmp.canary_quantile - base,
            cmp.canary_low - base,
            cmp.canary_high - base,
        )
        detail = _difference_detail(gate, head, estimate, low, high)
        return _result(gate, verdict, samples, alpha, detail, estimate, (low, high))
    if base <= 0:
        return _zero_base(gate, samples, alpha, head, cmp.canary_quantile)
    estimate, low, high = (
        cmp.canary_quantile / base,
        max(cmp.canary_low, 0.0) / base,
        cmp.canary_high / base,
    )
    detail = _ratio_detail(gate, head, estimate, low, high)
    return _result(gate, verdict, samples, alpha, detail, estimate, (low, high))


def _zero_base(
    gate: GateSpec, samples: tuple[int, int], alpha: float, head: str, canary: float
) -> GateResult:
    """A ratio to a stable value of 0: fine if the canary is 0 too, else undecidable."""
    if canary <= 0:
        return _result(gate, Verdict.OK, samples, alpha, f"{head} (both 0)")
    detail = f"{head}; a ratio to 0 is undefined, use max_increase for this metric"
    return _result(gate, Verdict.INSUFFICIENT, samples, alpha, detail)


def _moments(arm: ArmObservations, metric: Metric) -> Moments:
    if metric is Metric.LATENCY_MEAN:
        return arm.latency_ms
    return arm.cost_usd if metric is Metric.COST_PER_REQUEST else arm.quality


def _mean(
    gate: GateSpec, ev: Evidence, alpha: float, min_samples: int, target_n: int
) -> GateResult:
    canary, stable = _moments(ev.canary, gate.metric), _moments(ev.stable, gate.metric)
    samples = (canary.n, stable.n)
    if min(samples) < min_samples:
        return _too_few(gate, samples, min_samples, alpha)
    kind, value = gate.tolerance
    head = _compared(gate, canary.mean, stable.mean)
    if kind is Tolerance.MAX_RATIO:
        if stable.mean <= 0 or canary.mean <= 0:
            if stable.mean > 0:  # the canary's mean is 0: as good as it gets
                return _result(gate, Verdict.OK, samples, alpha, f"{head} (ratio 0)", 0.0)
            return _zero_base(gate, samples, alpha, head, canary.mean)
        cs = log_mean_ratio_cs(canary, stable, alpha, target_n)
        verdict = Verdict.HARM if cs.low > math.log(value) else Verdict.OK
        estimate, low, high = math.exp(cs.estimate), math.exp(cs.low), math.exp(cs.high)
        detail = _ratio_detail(gate, head, estimate, low, high)
        return _result(gate, verdict, samples, alpha, detail, estimate, (low, high))
    cs = mean_difference_cs(canary, stable, alpha, target_n)
    harm = cs.high < -value if kind is Tolerance.MAX_DECREASE else cs.low > value
    verdict = Verdict.HARM if harm else Verdict.OK
    detail = _difference_detail(gate, head, cs.estimate, cs.low, cs.high)
    return _result(gate, verdict, samples, alpha, detail, cs.estimate, (cs.low, cs.high))
