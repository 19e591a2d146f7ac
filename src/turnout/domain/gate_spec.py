"""What a rollout gate measures and how much worse the canary may be: the vocabulary.

A :class:`GateSpec` is one metric and exactly one tolerance (``max_ratio``,
``max_increase`` or, for quality, ``max_decrease``), as a policy file writes it;
:mod:`turnout.domain.gates` judges the evidence against it.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass

from turnout.errors import InvalidInput

__all__ = ["DEFAULT_GATES", "GateSpec", "Metric", "Tolerance"]


class Metric(enum.StrEnum):
    """What a gate measures per request; quality is the only higher-is-better one."""

    ERROR_RATE = "error_rate"
    LATENCY_P50 = "latency_p50"
    LATENCY_P95 = "latency_p95"
    TTFT_P50 = "ttft_p50"
    TTFT_P95 = "ttft_p95"
    LATENCY_MEAN = "latency_mean"
    COST_PER_REQUEST = "cost_per_request"
    QUALITY = "quality"

    @property
    def quantile(self) -> float | None:
        """0.5 or 0.95 for a quantile metric, else ``None``."""
        return {"p50": 0.5, "p95": 0.95}.get(self.value.rsplit("_", 1)[-1])

    @property
    def unit(self) -> str:
        if self.value.startswith(("latency", "ttft")):
            return "ms"
        return "USD" if self is Metric.COST_PER_REQUEST else ""


class Tolerance(enum.StrEnum):
    """How far the canary may fall behind stable before it counts as harm."""

    MAX_RATIO = "max_ratio"
    MAX_INCREASE = "max_increase"
    MAX_DECREASE = "max_decrease"


def _metric(value: object) -> Metric:
    try:
        return Metric(str(value))
    except ValueError:
        known = ", ".join(m.value for m in Metric)
        raise InvalidInput(f"unknown gate metric {value!r}; expected one of: {known}") from None


@dataclass(frozen=True, slots=True)
class GateSpec:
    """A metric and exactly one tolerance against the stable arm.

    ``max_ratio``: canary / stable <= this (>= 1.0; 1.0 = no worse). ``max_increase``:
    canary - stable <= this, in the metric's unit (ms, USD; a fraction for
    error_rate: 0.01 = 1 pp). ``max_decrease``: quality only, canary >= stable - this.
    """

    metric: Metric
    max_ratio: float | None = None
    max_increase: float | None = None
    max_decrease: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.metric, Metric):
            object.__setattr__(self, "metric", _metric(self.metric))
        m = self.metric
        chosen = [
            (kind, value)
            for kind, value in zip(
                Tolerance, (self.max_ratio, self.max_increase, self.max_decrease), strict=True
            )
            if value is not None
        ]
        if len(chosen) != 1:
            kinds = "none" if not chosen else " and ".join(kind.value for kind, _ in chosen)
            raise InvalidInput(
                f"gate {m} needs exactly one tolerance (max_ratio, max_increase or "
                f"max_decrease); got {kinds}"
            )
        kind, value = chosen[0]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"gate {m}: {kind} must be a number, got {value!r}")
        if not math.isfinite(value) or value < 0:
            raise InvalidInput(f"gate {m}: {kind} must be a finite number >= 0, got {value!r}")
        if m is Metric.QUALITY and kind is not Tolerance.MAX_DECREASE:
            raise InvalidInput(
                "gate quality is higher-is-better: use max_decrease (e.g. 0.05 = at most "
                f"0.05 below stable), not {kind}"
            )
        if m is not Metric.QUALITY and kind is Tolerance.MAX_DECREASE:
            raise InvalidInput(
                f"gate {m}: max_decrease applies to quality only; {m} is lower-is-better, "
                "use max_ratio or max_increase"
            )
        if kind is Tolerance.MAX_RATIO and value < 1.0:
            raise InvalidInput(
                f"gate {m}: max_ratio must be >= 1.0 (1.0 = no worse than stable); got "
                f"{value:g}, which would roll back a canary merely as good as stable"
            )
        if m is Metric.ERROR_RATE and kind is Tolerance.MAX_INCREASE and value >= 1.0:
            raise InvalidInput(
                f"gate error_rate: max_increase is a fraction below 1 (0.01 = 1 pp); got {value:g}"
            )
        if m is Metric.QUALITY and value >= 1.0:
            raise InvalidInput(
                f"gate quality: scores lie in [0, 1], so max_decrease {value:g} would never fire"
            )

    @property
    def tolerance(self) -> tuple[Tolerance, float]:
        """The one tolerance set, as (kind, value)."""
        if self.max_ratio is not None:
            return Tolerance.MAX_RATIO, float(self.max_ratio)
        if self.max_increase is not None:
            return Tolerance.MAX_INCREASE, float(self.max_increase)
        assert self.max_decrease is not None  # __post_init__ guarantees one is set
        return Tolerance.MAX_DECREASE, float(self.max_decrease)

    def describe(self) -> str:
        """The tolerance for humans: ``<= 1.2x stable``, ``<= +1.0 pp``, ``>= stable - 0.05``."""
        kind, value = self.tolerance
        if kind is Tolerance.MAX_RATIO:
            return f"<= {value:g}x stable"
        if kind is Tolerance.MAX_DECREASE:
            return f">= stable - {value:g}"
        if self.metric is Metric.ERROR_RATE:
            return f"<= +{value * 100:.1f} pp"
        return f"<= +{value:g} {self.metric.unit}".rstrip()

    def to_dict(self) -> dict[str, object]:
        kind, value = self.tolerance
        return {"metric": self.metric.value, kind.value: value}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> GateSpec:
        """Read ``{metric: ..., max_ratio | max_increase | max_decrease: ...}`` (YAML/JSON)."""
        unknown = sorted({str(key) for key in data} - {"metric", *Tolerance})
        if unknown:
            raise InvalidInput(
                f"gate has unknown key(s) {', '.join(map(repr, unknown))}; expected 'metric' "
                "and one of 'max_ratio', 'max_increase', 'max_decrease'"
            )
        if "metric" not in data:
            raise InvalidInput("gate needs a 'metric', e.g. {metric: latency_p95, max_ratio: 1.2}")
        values: dict[str, float | None] = {}
        for kind in Tolerance:
            value = data.get(kind)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise InvalidInput(f"gate {data['metric']}: {kind} must be a number, got {value!r}")
            values[kind] = None if value is None else float(value)
        return cls(
            _metric(data["metric"]),
            values["max_ratio"],
            values["max_increase"],
            values["max_decrease"],
        )


DEFAULT_GATES: tuple[GateSpec, ...] = (
    GateSpec(Metric.ERROR_RATE, max_ratio=1.0),
    GateSpec(Metric.LATENCY_P95, max_ratio=1.2),
    GateSpec(Metric.QUALITY, max_decrease=0.05),
)
"""Errors no worse than stable, p95 latency within 1.2x, quality within 0.05.

Errors are the commonest regression and the count test is both exact and immune to
provider-wide incidents, so it needs no slack: 1.0 rolls back only what the data
shows to be worse, and a small real regression is only flagged once traffic is large
— exactly when it costs most. Tail latency is what users feel; 1.2x absorbs the
usual difference between two deployments. Quality within 0.05 catches a model that
answers worse while erroring no more. Without feedback or online scorers the quality
gate stays ``insufficient`` and holds the rollout: drop it from the policy then.
Three gates share alpha = 0.05, so each tests at 0.0167.
"""
