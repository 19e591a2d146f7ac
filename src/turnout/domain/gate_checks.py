"""How each metric's gate is judged: the anytime-valid test it uses and its summary line.

:func:`turnout.domain.gates.evaluate_gates` runs every gate after every batch, so
each test here is anytime-valid, from :mod:`turnout.domain.sequential`. The tests
differ by metric and tolerance, and so do the numbers a reader needs to trust the
verdict; this module holds both, per metric, so that adding a metric or a tolerance
touches one place:

* ``error_rate`` with ``max_ratio`` (the default): the count e-process of Lindon &
  Malek (NeurIPS 2022) over per-step :class:`~turnout.domain.gate_evidence.CountSegment`
  s. Harm when the e-value reaches 1/alpha. Exact at any sample size, so harm needs
  no minimum sample.
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
scorers); higher is better, every other metric lower is better. An arm with too few
samples for a metric gives ``insufficient``, never ``harm``.
"""

from __future__ import annotations

import math

from turnout.domain.gate_evidence import ArmObservations, Evidence
from turnout.domain.gate_results import GateResult, Verdict
from turnout.domain.gate_spec import GateSpec, Metric, Tolerance
from turnout.domain.sequential import (
    EventSegment,
    Moments,
    compare_quantiles,
    count_log_e_value,
    log_mean_ratio_cs,
    mean_difference_cs,
    proportion_difference_cs,
)

__all__ = ["evaluate_gate"]


def evaluate_gate(
    gate: GateSpec, evidence: Evidence, alpha: float, min_samples: int, target_n: int
) -> GateResult:
    """One gate's verdict at ``alpha`` (its share of the rollout's alpha, already split).

    :func:`turnout.domain.gates.evaluate_gates` validates the arguments and splits
    alpha across the gates; this picks the test the metric and the tolerance call for.
    """
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
