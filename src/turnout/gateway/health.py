"""Per-version circuit breakers of one gateway process, and what their changes cause.

The chat path asks :meth:`HealthBook.allow` before calling a version and
reports every outcome with :meth:`HealthBook.record` — a dict lookup and a
counter bump each. A breaker that changes state is logged, shown in
``/metrics`` (``turnout_breaker_state``, ``turnout_breaker_transitions_total``),
queued for the store (``turnout health`` reads the events) and sent to the
configured webhooks. Breakers live in memory, per process: each replica
judges the upstream from its own traffic, as Envoy's outlier detection does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from turnout.domain.breaker import BreakerConfig, BreakerState, CircuitBreaker, Transition
from turnout.domain.health import HealthEvent
from turnout.gateway.metrics import GatewayMetrics

__all__ = ["HealthBook"]

log = logging.getLogger(__name__)


class HealthBook:
    """Breakers by version id, created on first use."""

    def __init__(
        self,
        config: BreakerConfig,
        metrics: GatewayMetrics | None = None,
        on_event: Callable[[HealthEvent], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._metrics = metrics
        self._on_event = on_event
        self._monotonic = monotonic
        self._breakers: dict[str, CircuitBreaker] = {}

    def _breaker(self, version: str) -> CircuitBreaker:
        found = self._breakers.get(version)
        if found is None:
            found = self._breakers[version] = CircuitBreaker(self._config)
        return found

    def allow(self, version: str) -> bool:
        """Whether ``version`` may take a request now (closed, or a half-open trial)."""
        breaker = self._breakers.get(version)
        if breaker is None or breaker.state is BreakerState.CLOSED:
            return True
        allowed, transition = breaker.allow(self._monotonic())
        if transition is not None:
            self._changed(version, transition)
        return allowed

    def record(self, version: str, ok: bool) -> None:
        """Count one outcome of ``version`` (only upstream failures count as not ``ok``)."""
        transition = self._breaker(version).record(self._monotonic(), ok)
        if transition is not None:
            self._changed(version, transition)

    def states(self) -> Mapping[str, BreakerState]:
        return {version: breaker.state for version, breaker in self._breakers.items()}

    def _changed(self, version: str, transition: Transition) -> None:
        level = logging.WARNING if transition.after is BreakerState.OPEN else logging.INFO
        log.log(
            level,
            "breaker for %s: %s -> %s (%s)",
            version,
            transition.before.value,
            transition.after.value,
            transition.reason,
        )
        if self._metrics is not None:
            self._metrics.breaker_state.labels(version=version).set(transition.after.gauge)
            self._metrics.breaker_transitions.labels(
                version=version, state=transition.after.value
            ).inc()
        if self._on_event is not None:
            self._on_event(
                HealthEvent(
                    at=datetime.now(UTC),
                    version=version,
                    kind="breaker",
                    state=transition.after.value,
                    detail=f"{transition.before.value} -> {transition.after.value}: "
                    f"{transition.reason}",
                )
            )
