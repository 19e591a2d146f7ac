"""Rollout gates: "the canary is no worse than stable", metric by metric, checked anytime.

A gate is a metric and one tolerance against the stable arm measured over the same
period (concurrent control), never an absolute threshold: an absolute "error rate <
5 %" rolls a healthy canary back during a provider-wide incident. The controller
evaluates every gate after every batch, so each uses an anytime-valid test from
:mod:`turnout.domain.sequential`; which test a metric gets, and why, is in
:mod:`turnout.domain.gate_checks`.

Several gates share alpha by Bonferroni (alpha / number of gates each), so the
chance that *any* gate falsely reports harm during the whole rollout stays <= alpha.
An arm with too few samples for a metric gives ``insufficient``, never ``harm``
("no data yet" caused false rollbacks in Flagger #1501 and Argo Rollouts #1466),
and a canary with no successful request is never ``ok`` (Argo Rollouts #4479).

This module is the entry point: :func:`evaluate_gates` and :func:`decide`. The rest
lives in modules of its own and is re-exported here, so callers import from one
place: the gate vocabulary (:class:`GateSpec`, :class:`Metric`, ``DEFAULT_GATES``) in
:mod:`turnout.domain.gate_spec`, what the gates read (:class:`ArmObservations`,
:class:`CountSegment`, :class:`Evidence`) in :mod:`turnout.domain.gate_evidence`, and
what one gate says (:class:`Verdict`, :class:`GateResult`) in
:mod:`turnout.domain.gate_results`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from turnout.domain.gate_checks import evaluate_gate
from turnout.domain.gate_evidence import ArmObservations, CountSegment, Evidence
from turnout.domain.gate_results import GateResult, Verdict
from turnout.domain.gate_spec import DEFAULT_GATES, GateSpec, Metric, Tolerance
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


class Decision(enum.StrEnum):
    """What the rollout should do after a look; the state machine applies it."""

    ADVANCE = "advance"
    HOLD = "hold"
    ROLLBACK = "rollback"


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
    return tuple(evaluate_gate(gate, evidence, share, min_samples, target_n) for gate in gates)


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
