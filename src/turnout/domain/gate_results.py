"""What one gate says: its verdict and the numbers behind it.

A result travels further than the evaluation that made it: the rollout's decision,
the controller's log, the dashboard's charts and the admin API's JSON all read it.
Keeping the result types apart from the per-metric tests lets those readers depend
on the shape of an answer without importing the statistics that produce it.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from turnout.domain.gate_spec import Metric

__all__ = ["GateResult", "Verdict"]


class Verdict(enum.StrEnum):
    """One gate's answer: no harm shown with enough data, harm, or not enough data yet."""

    OK = "ok"
    HARM = "harm"
    INSUFFICIENT = "insufficient"


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
    """JSON has no infinity: an unbounded side (or a NaN) is reported as null."""
    return value if value is not None and math.isfinite(value) else None
