"""Per-gate charts of a rollout: canary against stable over time, as inline SVG geometry.

Each point is the gate judged on the request log as it stood at one cut point
(:meth:`~turnout.services.rollouts.RolloutService.status_at`), so a chart is a
replay of the log, the same for every viewer and every reload, with no stored
series. The cut points are the end of every finished step plus a few evenly
spaced moments, and the rollout's end (or now).

What is drawn is what the gate decides on: the estimate on the tolerance's
scale (canary / stable for ``max_ratio``, canary - stable otherwise), its
anytime-valid interval as a band, the tolerance as a line and "same as stable"
as a dotted one. Intervals run to infinity while data is scarce; the band is
clipped to the chart, which says so. Only numbers leave this module; the
template lays them out (autoescaped), so the page needs no script.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from turnout.domain.gates import GateResult, GateSpec, Tolerance
from turnout.domain.rollouts import Rollout

__all__ = ["EVEN_CUTS", "ChartPoint", "GateChart", "StepMark", "cut_points", "gate_charts"]

EVEN_CUTS = 8
"""Evenly spaced cut points over the rollout (besides each step's end)."""

_W, _H = 500, 160  # the plot area; labels sit in the margins around it
_LEFT, _TOP = 64, 10


@dataclass(frozen=True, slots=True)
class ChartPoint:
    at: datetime
    x: float
    y: float | None  # None: no estimate yet (insufficient data)
    low: float | None  # the interval band's ends, clipped to the chart
    high: float | None
    verdict: str
    summary: str


@dataclass(frozen=True, slots=True)
class StepMark:
    x: float
    label: str  # "10%"


@dataclass(frozen=True, slots=True)
class GateChart:
    """One gate's chart, in SVG user units (the plot area is ``width`` x ``height``)."""

    metric: str
    tolerance: str
    scale: str  # what the y axis measures
    points: tuple[ChartPoint, ...]
    steps: tuple[StepMark, ...]
    tolerance_y: float
    baseline_y: float
    ticks: tuple[tuple[float, str], ...]  # (y, label)
    clipped: bool  # some interval reached past the chart
    width: int = _W
    height: int = _H
    left: int = _LEFT
    top: int = _TOP

    @property
    def drawn(self) -> tuple[ChartPoint, ...]:
        """The points that have an estimate (the others are gaps in the line)."""
        return tuple(p for p in self.points if p.y is not None)

    @property
    def line(self) -> str:
        return " ".join(f"{p.x:g},{p.y:g}" for p in self.drawn)

    @property
    def band(self) -> str:
        """The interval band as polygon points: along the top, then back along the bottom."""
        banded = [p for p in self.points if p.low is not None and p.high is not None]
        if len(banded) < 2:
            return ""
        top = [f"{p.x:g},{p.high:g}" for p in banded]
        bottom = [f"{p.x:g},{p.low:g}" for p in reversed(banded)]
        return " ".join(top + bottom)


def cut_points(rollout: Rollout, end: datetime, even: int = EVEN_CUTS) -> tuple[datetime, ...]:
    """When to judge the gates: each finished step's end, ``even`` spaced moments, ``end``."""
    start = rollout.started_at
    span = end - start
    cuts = {start + span * k / even for k in range(1, even + 1)}
    cuts |= {
        r.ended_at for r in rollout.steps_log if r.ended_at is not None and start < r.ended_at < end
    }
    return tuple(sorted(cuts))


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _reference(gate: GateSpec) -> tuple[float, float, str]:
    """(tolerance line, "same as stable" line, what the axis measures) on the gate's scale."""
    kind, value = gate.tolerance
    if kind is Tolerance.MAX_RATIO:
        return value, 1.0, "canary / stable"
    if kind is Tolerance.MAX_DECREASE:
        return -value, 0.0, "canary - stable"
    return value, 0.0, "canary - stable"


def _domain(
    values: Sequence[float], tolerance: float, baseline: float, ratio: bool
) -> tuple[float, float]:
    """The y range: the estimates and both reference lines, with room for some band
    (never below 0 for a ratio, which cannot be negative)."""
    lo, hi = min(*values, tolerance, baseline), max(*values, tolerance, baseline)
    span = hi - lo or max(abs(hi) * 0.5, 0.1)
    low = lo - span * 0.25
    return (max(low, 0.0) if ratio else low), hi + span * 0.25


def _ticks(candidates: Sequence[tuple[float, float]]) -> tuple[tuple[float, str], ...]:
    """Axis labels by priority (tolerance, same as stable, top, bottom), none overlapping."""
    kept: list[tuple[float, str]] = []
    for y, value in candidates:
        if all(abs(y - other) >= 11 for other, _ in kept):
            kept.append((y, f"{value:.3g}"))
    return tuple(kept)


def gate_charts(
    rollout: Rollout, series: Sequence[tuple[datetime, Sequence[GateResult]]], end: datetime
) -> tuple[GateChart, ...]:
    """One chart per gate of the plan from ``series`` (cut point, results in plan order)."""
    start = rollout.started_at
    seconds = max((end - start).total_seconds(), 1e-9)

    def x_of(at: datetime) -> float:
        return round(min(max((at - start).total_seconds() / seconds, 0.0), 1.0) * _W, 1)

    steps = tuple(StepMark(x_of(r.started_at), f"{r.weight / 100:g}%") for r in rollout.steps_log)
    charts = []
    for i, gate in enumerate(rollout.plan.gates):
        results = [(at, found[i]) for at, found in series if i < len(found)]
        tolerance, baseline, scale = _reference(gate)
        estimates = [v for _, r in results if (v := _finite(r.estimate)) is not None]
        lo, hi = _domain(estimates, tolerance, baseline, gate.tolerance[0] is Tolerance.MAX_RATIO)

        def y_of(value: float, lo: float = lo, hi: float = hi) -> float:
            clamped = min(max(value, lo), hi)
            return round((hi - clamped) / (hi - lo) * _H, 1)

        points, clipped = [], False
        for at, result in results:
            estimate = _finite(result.estimate)
            low = high = None
            if result.interval is not None and estimate is not None:
                low, high = result.interval
                clipped = clipped or low < lo or high > hi
                low, high = y_of(max(low, lo)), y_of(min(high, hi))
            y = y_of(estimate) if estimate is not None else None
            points.append(
                ChartPoint(at, x_of(at), y, low, high, result.verdict.value, result.summary)
            )
        ticks = _ticks([(y_of(v), v) for v in (tolerance, baseline, hi, lo)])
        charts.append(
            GateChart(
                gate.metric.value,
                gate.describe(),
                scale,
                tuple(points),
                steps,
                y_of(tolerance),
                y_of(baseline),
                ticks,
                clipped,
            )
        )
    return tuple(charts)
