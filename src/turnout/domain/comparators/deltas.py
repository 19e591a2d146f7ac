"""``latency_ms``, ``ttft_ms``, ``tokens_out``, ``cost_usd``: candidate minus primary.

Paired differences on the same request: a long prompt is slow and costly for
both models, so differencing per request removes that spread and the report's
interval on the mean difference is much tighter than comparing two averages.
A failed side does not count (a fast error is not a fast answer), nor does a
metric a provider did not report (``None``).
"""

from __future__ import annotations

from collections.abc import Callable

from turnout.domain.comparators.base import ComparatorKind, FunctionComparator
from turnout.domain.completions import Completion
from turnout.domain.shadow import ShadowPair

__all__ = ["COMPARATORS", "metric_delta"]


def metric_delta(
    metric: Callable[[Completion], float | None],
) -> Callable[[ShadowPair], float | None]:
    """A comparator function: ``metric(candidate) - metric(primary)`` when both succeeded."""

    def delta(pair: ShadowPair) -> float | None:
        if not pair.primary.ok or not pair.candidate.ok:
            return None
        primary, candidate = metric(pair.primary), metric(pair.candidate)
        if primary is None or candidate is None:
            return None
        return float(candidate) - float(primary)

    return delta


COMPARATORS = (
    FunctionComparator(
        "latency_ms", ComparatorKind.DELTA, metric_delta(lambda c: c.latency_ms), "ms"
    ),
    FunctionComparator("ttft_ms", ComparatorKind.DELTA, metric_delta(lambda c: c.ttft_ms), "ms"),
    FunctionComparator(
        "tokens_out",
        ComparatorKind.DELTA,
        metric_delta(lambda c: None if c.tokens_out is None else float(c.tokens_out)),
        "tokens",
    ),
    FunctionComparator("cost_usd", ComparatorKind.DELTA, metric_delta(lambda c: c.cost_usd), "USD"),
)
