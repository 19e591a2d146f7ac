"""What the rollout gates read: each arm's observations and the error counts per step.

The store's observer builds these from the request log (SQL aggregates per arm) and
the gates judge them; keeping the types apart from both lets the observer depend on
the evidence without depending on how it is judged, and lets the gates be tested on
hand-built evidence. Construction checks the invariants the tests rely on (errors
within requests, a share strictly between 0 and 1), so a bad count fails here, with
a message, rather than deep inside the statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from turnout.domain.sequential import Moments
from turnout.errors import InvalidInput

__all__ = ["ArmObservations", "CountSegment", "Evidence"]


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
