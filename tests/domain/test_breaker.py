"""Breaker transitions, driven by an explicit clock."""

from __future__ import annotations

import pytest

from turnout.domain.breaker import BreakerConfig, BreakerState, CircuitBreaker
from turnout.errors import InvalidInput

CONFIG = BreakerConfig(
    window_s=10,
    min_requests=10,
    failure_rate=0.5,
    consecutive_failures=5,
    open_s=5.0,
    half_open_requests=2,
)


def test_consecutive_failures_open_it_at_once() -> None:
    breaker = CircuitBreaker(CONFIG)
    transitions = [breaker.record(100.0, ok=False) for _ in range(5)]
    assert transitions[:4] == [None] * 4
    assert transitions[4] is not None
    assert transitions[4].after is BreakerState.OPEN
    assert "5 consecutive failures" in transitions[4].reason
    assert breaker.allow(101.0) == (False, None)


def test_a_failure_rate_over_the_window_opens_it() -> None:
    breaker = CircuitBreaker(CONFIG)
    now = 100.0
    for i in range(9):  # alternating: never 5 in a row; 4 of 9 failed, under min_requests
        assert breaker.record(now, ok=i % 2 == 0) is None
    transition = breaker.record(now, ok=False)  # 5 of 10
    assert transition is not None
    assert transition.after is BreakerState.OPEN
    assert "5/10 failed" in transition.reason


def test_old_failures_leave_the_window() -> None:
    breaker = CircuitBreaker(CONFIG)
    for _ in range(4):
        breaker.record(100.0, ok=False)
    breaker.record(100.0, ok=True)
    for _ in range(4):
        breaker.record(100.0, ok=False)  # 8/9 failed so far, in the window
    for _ in range(20):  # 15 s later: the old bucket is gone, only successes count
        assert breaker.record(115.0, ok=True) is None
    assert breaker.state is BreakerState.CLOSED


def test_half_open_trials_close_it_or_reopen_it() -> None:
    breaker = CircuitBreaker(CONFIG)
    for _ in range(5):
        breaker.record(100.0, ok=False)
    assert breaker.allow(104.9)[0] is False
    allowed, transition = breaker.allow(105.0)  # cool-down over
    assert allowed
    assert transition is not None
    assert transition.after is BreakerState.HALF_OPEN
    assert breaker.allow(105.1) == (True, None)  # the second trial
    assert breaker.allow(105.2) == (False, None)  # no more trials in flight
    assert breaker.record(105.3, ok=True) is None
    closed = breaker.record(105.4, ok=True)
    assert closed is not None
    assert closed.after is BreakerState.CLOSED
    assert breaker.allow(105.5) == (True, None)

    for _ in range(5):
        breaker.record(200.0, ok=False)
    breaker.allow(206.0)
    reopened = breaker.record(206.1, ok=False)
    assert reopened is not None
    assert reopened.after is BreakerState.OPEN
    assert breaker.allow(206.2) == (False, None)  # a fresh cool-down


def test_outcomes_of_requests_let_through_before_the_trip_are_ignored_while_open() -> None:
    breaker = CircuitBreaker(CONFIG)
    for _ in range(5):
        breaker.record(100.0, ok=False)
    assert breaker.record(100.5, ok=True) is None
    assert breaker.state is BreakerState.OPEN


@pytest.mark.parametrize(
    "kwargs",
    [{"failure_rate": 0.0}, {"failure_rate": 1.5}, {"window_s": 0}, {"open_s": 0}],
)
def test_bad_config_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        BreakerConfig(**kwargs)  # type: ignore[arg-type]
