"""Routing around trouble: skip a version whose breaker is open, retry once on a fallback.

Before a request, :meth:`Failover.pick` keeps the chosen route if its version's
breaker allows it, else takes the alias's first fallback whose breaker does
(``x-turnout-arm: fallback``); with every breaker open it keeps the primary —
refusing outright would turn a suspected outage into a certain one. After a
failed attempt, :meth:`Failover.retry` counts the failure and names the route to
try once more: only for a *retryable* failure (5xx, timeout, reset, 429) and
only before anything was sent to the client. Every attempt's outcome feeds the
breakers, so a recovered version is probed by half-open trials and traffic
returns to it by itself.
"""

from __future__ import annotations

from turnout.errors import ProviderError, TurnoutError
from turnout.gateway.health import HealthBook
from turnout.gateway.metrics import GatewayMetrics
from turnout.gateway.routing import Route

__all__ = ["Failover", "counts_against"]


def counts_against(error: TurnoutError | None) -> bool:
    """Whether an outcome is the model's failure (a client's bad request is not)."""
    return isinstance(error, ProviderError) and error.retryable


class Failover:
    def __init__(self, health: HealthBook, metrics: GatewayMetrics) -> None:
        self._health = health
        self._metrics = metrics

    def pick(self, route: Route) -> Route:
        """``route``, or its first fallback that may take traffic when its breaker is open."""
        if self._health.allow(route.version) or not route.fallbacks:
            return route
        for fallback in route.fallbacks:
            if self._health.allow(fallback.version):
                self._metrics.fallbacks.labels(route.alias_label, route.version, "open").inc()
                return fallback
        return route

    def retry(self, failed: Route, chain: tuple[Route, ...], error: TurnoutError) -> Route | None:
        """Count ``failed``'s failure; the fallback to try once more, if the error allows."""
        retryable = counts_against(error)
        self._health.record(failed.version, ok=not retryable)
        if not retryable:
            return None
        for fallback in chain:
            if fallback.version != failed.version and self._health.allow(fallback.version):
                self._metrics.fallbacks.labels(failed.alias_label, failed.version, "retry").inc()
                return fallback
        return None

    def record(self, route: Route, error: TurnoutError | None) -> None:
        """The final attempt's outcome."""
        self._health.record(route.version, ok=not counts_against(error))
