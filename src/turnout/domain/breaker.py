"""A circuit breaker per version: stop sending traffic to a model that is failing.

Closed: requests flow; outcomes are counted in a rolling window of one-second
buckets. The breaker *opens* when, over the window, at least ``min_requests``
were seen and the failure rate reached ``failure_rate`` — or when
``consecutive_failures`` failed in a row (a hard outage trips it at once,
without waiting for the window to fill). Open: the gateway skips the version
and serves the alias's next healthy fallback. After ``open_s`` the breaker goes
*half-open* and lets ``half_open_requests`` trial requests through; that many
successes close it (traffic returns by itself), one failure re-opens it.

Pure: the clock is a parameter (monotonic seconds), so tests drive it exactly.
Only *retryable* upstream failures count (5xx, timeouts, resets, rate limits);
a 400 is the client's fault, not the model's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from turnout.errors import InvalidInput

__all__ = ["BreakerConfig", "BreakerState", "CircuitBreaker", "Transition"]


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"

    @property
    def gauge(self) -> int:
        """0 closed, 1 half-open, 2 open: for ``turnout_breaker_state``."""
        return {"closed": 0, "half_open": 1, "open": 2}[self.value]


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    """Thresholds (``turnout serve`` reads them from ``TURNOUT_BREAKER_*``, see wiring)."""

    window_s: int = 10
    min_requests: int = 20
    failure_rate: float = 0.5
    consecutive_failures: int = 5
    open_s: float = 5.0
    half_open_requests: int = 3

    def __post_init__(self) -> None:
        if self.window_s < 1 or self.min_requests < 1 or self.consecutive_failures < 1:
            raise InvalidInput("breaker window_s, min_requests, consecutive_failures must be >= 1")
        if not 0.0 < self.failure_rate <= 1.0:
            raise InvalidInput(f"breaker failure_rate must be in (0, 1], got {self.failure_rate}")
        if not self.open_s > 0 or self.half_open_requests < 1:
            raise InvalidInput("breaker open_s must be positive and half_open_requests >= 1")


@dataclass(frozen=True, slots=True)
class Transition:
    """A state change, with the evidence that caused it (for logs, metrics, webhooks)."""

    before: BreakerState
    after: BreakerState
    reason: str


class CircuitBreaker:
    """One version's breaker. Not thread-safe: one per event loop (per gateway process)."""

    __slots__ = (
        "_buckets",
        "_config",
        "_opened_at",
        "_streak",
        "_trials_left",
        "_trials_ok",
        "state",
    )

    def __init__(self, config: BreakerConfig) -> None:
        self._config = config
        self.state = BreakerState.CLOSED
        self._buckets: dict[int, list[int]] = {}  # second -> [requests, failures]
        self._streak = 0
        self._opened_at = 0.0
        self._trials_left = 0
        self._trials_ok = 0

    def allow(self, now: float) -> tuple[bool, Transition | None]:
        """Whether a request may go to this version now (and a transition, if one happened).

        Open becomes half-open once ``open_s`` has passed; half-open lets a fixed
        number of trial requests through.
        """
        if self.state is BreakerState.CLOSED:
            return True, None
        if self.state is BreakerState.OPEN:
            if now - self._opened_at < self._config.open_s:
                return False, None
            transition = self._move(BreakerState.HALF_OPEN, "cool-down over: trying again")
            self._trials_left = self._config.half_open_requests
            self._trials_ok = 0
            self._trials_left -= 1
            return True, transition
        if self._trials_left > 0:
            self._trials_left -= 1
            return True, None
        return False, None

    def record(self, now: float, ok: bool) -> Transition | None:
        """Count one outcome; return the transition it caused, if any."""
        if self.state is BreakerState.HALF_OPEN:
            if not ok:
                return self._open(now, "a trial request failed")
            self._trials_ok += 1
            if self._trials_ok >= self._config.half_open_requests:
                self._buckets.clear()
                self._streak = 0
                return self._move(BreakerState.CLOSED, f"{self._trials_ok} trial requests passed")
            return None
        if self.state is BreakerState.OPEN:
            return None  # a request let through before the trip; its outcome is known
        second = int(now)
        bucket = self._buckets.get(second)
        if bucket is None:
            self._prune(second)
            bucket = self._buckets[second] = [0, 0]
        bucket[0] += 1
        if ok:
            self._streak = 0
            return None
        bucket[1] += 1
        self._streak += 1
        config = self._config
        if self._streak >= config.consecutive_failures:
            return self._open(now, f"{self._streak} consecutive failures")
        requests = sum(b[0] for b in self._buckets.values())
        if requests >= config.min_requests:
            failures = sum(b[1] for b in self._buckets.values())
            if failures / requests >= config.failure_rate:
                return self._open(
                    now,
                    f"{failures}/{requests} failed in {config.window_s}s "
                    f"(>= {config.failure_rate:.0%})",
                )
        return None

    def _prune(self, second: int) -> None:
        oldest = second - self._config.window_s + 1
        for key in [k for k in self._buckets if k < oldest]:
            del self._buckets[key]

    def _open(self, now: float, reason: str) -> Transition:
        self._opened_at = now
        self._trials_left = 0
        return self._move(BreakerState.OPEN, reason)

    def _move(self, after: BreakerState, reason: str) -> Transition:
        transition = Transition(self.state, after, reason)
        self.state = after
        return transition
