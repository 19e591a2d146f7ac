"""The shadow dispatcher alone: sampling, the queue bound, the concurrency bound,
rate and budget caps, failures recorded as pairs, and a clean stop.

A fake provider stands in for the candidate, so the bounds are exact: ``offer``
is synchronous, so what it accepts and drops does not depend on timing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from turnout.domain.completions import Completion
from turnout.domain.ids import VersionId
from turnout.domain.shadow import ShadowPair, ShadowPolicy
from turnout.errors import ProviderError
from turnout.gateway.routing import Route, ShadowRoute
from turnout.gateway.shadow import ShadowDispatcher
from turnout.providers.base import ChatRequest

CANDIDATE = "sim/chat-2025-06-01"
BODY: dict[str, Any] = {"messages": [{"role": "user", "content": "hi"}], "temperature": 0.5}
PRIMARY = Completion("sim/chat-2025-01-01", "hello", 12.0, tokens_in=3, tokens_out=1)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeProvider:
    """Answers after ``release`` is set; counts calls and the most in flight at once."""

    def __init__(self, fail: bool = False) -> None:
        self.release = asyncio.Event()
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.fail = fail

    async def _enter(self) -> None:
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self.release.wait()
        finally:
            self.in_flight -= 1
        if self.fail:
            raise ProviderError("candidate exploded", status=502)

    async def complete(self, request: ChatRequest) -> dict[str, object]:
        await self._enter()
        usage = {"prompt_tokens": 3, "completion_tokens": 2}
        return {"choices": [{"message": {"content": "hello there"}}], "usage": usage}

    async def stream(self, request: ChatRequest) -> AsyncIterator[dict[str, object]]:
        await self._enter()
        for part in ("hel", "lo"):
            yield {"choices": [{"delta": {"content": part}}]}

    async def aclose(self) -> None:
        return None


def _shadow(provider: FakeProvider, **policy: Any) -> ShadowRoute:
    route = Route(
        alias="prod-chat",
        version=CANDIDATE,
        arm="shadow",
        model="chat-2025-06-01",
        params={},
        provider=provider,  # type: ignore[arg-type]
        price_in=1_000_000.0,  # $1 per token in, so costs are easy to reason about
        price_out=1_000_000.0,
        alias_header=b"prod-chat",
        version_header=CANDIDATE.encode(),
        arm_header=b"shadow",
    )
    return ShadowRoute(ShadowPolicy(VersionId.parse(CANDIDATE), **policy), route)


async def _settle(dispatcher: ShadowDispatcher, pairs: list[ShadowPair], n: int) -> None:
    async with asyncio.timeout(5):
        while len(pairs) < n:
            await asyncio.sleep(0.001)


async def test_queue_and_concurrency_bounds_hold_and_overflow_is_counted() -> None:
    provider = FakeProvider()
    pairs: list[ShadowPair] = []
    dispatcher = ShadowDispatcher(pairs.append, queue_size=3, concurrency=2)
    dispatcher.start()
    shadow = (_shadow(provider, sample=1.0),)
    for i in range(10):  # synchronous: nothing has been taken off the queue yet
        dispatcher.offer("prod-chat", shadow, BODY, False, PRIMARY, f"req_{i}")
    assert dispatcher.pending == 3
    assert dispatcher.dropped["queue_full"] == 7
    await asyncio.sleep(0.01)
    assert provider.in_flight == 2  # the concurrency bound, with one copy still queued
    provider.release.set()
    await _settle(dispatcher, pairs, 3)
    assert provider.max_in_flight == 2
    assert provider.calls == 3
    await dispatcher.stop()
    assert {p.request_id for p in pairs} == {"req_0", "req_1", "req_2"}


async def test_a_pair_holds_both_sides_and_the_request() -> None:
    provider = FakeProvider()
    provider.release.set()
    pairs: list[ShadowPair] = []
    dispatcher = ShadowDispatcher(pairs.append)
    dispatcher.start()
    dispatcher.offer("prod-chat", (_shadow(provider, sample=1.0),), BODY, False, PRIMARY, "req_a")
    dispatcher.offer("prod-chat", (_shadow(provider, sample=1.0),), BODY, True, PRIMARY, "req_b")
    await _settle(dispatcher, pairs, 2)
    await dispatcher.stop()
    by_id = {p.request_id: p for p in pairs}
    plain, streamed = by_id["req_a"], by_id["req_b"]
    assert plain.primary == PRIMARY
    assert plain.candidate.text == "hello there"
    assert plain.candidate.version == CANDIDATE
    assert (plain.candidate.tokens_in, plain.candidate.tokens_out) == (3, 2)
    assert plain.candidate.cost_usd == pytest.approx(5.0)
    assert plain.messages == BODY["messages"]
    assert plain.params == {"temperature": 0.5}
    assert streamed.stream
    assert streamed.candidate.text == "hello"
    assert streamed.candidate.ttft_ms is not None
    assert plain.candidate.ttft_ms is None


async def test_a_failing_candidate_is_a_recorded_pair_not_an_exception() -> None:
    provider = FakeProvider(fail=True)
    provider.release.set()
    pairs: list[ShadowPair] = []
    dispatcher = ShadowDispatcher(pairs.append)
    dispatcher.start()
    dispatcher.offer("prod-chat", (_shadow(provider, sample=1.0),), BODY, False, PRIMARY, "req_x")
    await _settle(dispatcher, pairs, 1)
    await dispatcher.stop()
    assert pairs[0].candidate.error is not None
    assert "candidate exploded" in pairs[0].candidate.error
    assert not pairs[0].candidate.ok


async def test_sampling_uses_the_draw() -> None:
    provider = FakeProvider()
    draws = iter([0.05, 0.5, 0.09, 0.95])
    dispatcher = ShadowDispatcher(lambda _: None, draw=lambda: next(draws))
    shadow = (_shadow(provider, sample=0.1),)
    for i in range(4):
        dispatcher.offer("prod-chat", shadow, BODY, False, PRIMARY, f"req_{i}")
    assert dispatcher.pending == 2  # draws 0.05 and 0.09 are under 0.1


async def test_rate_limit_allows_a_burst_of_one_second_then_refills() -> None:
    now = [100.0]
    dispatcher = ShadowDispatcher(lambda _: None, monotonic=lambda: now[0])
    shadow = (_shadow(FakeProvider(), sample=1.0, max_rps=2.0),)
    for i in range(5):
        dispatcher.offer("prod-chat", shadow, BODY, False, PRIMARY, f"req_{i}")
    assert (dispatcher.pending, dispatcher.dropped["rate_limited"]) == (2, 3)
    now[0] += 0.5  # one more token
    for i in range(3):
        dispatcher.offer("prod-chat", shadow, BODY, False, PRIMARY, f"req_b{i}")
    assert (dispatcher.pending, dispatcher.dropped["rate_limited"]) == (3, 5)


async def test_the_daily_budget_stops_copies_once_spent() -> None:
    provider = FakeProvider()
    provider.release.set()
    pairs: list[ShadowPair] = []
    dispatcher = ShadowDispatcher(pairs.append, concurrency=1)
    dispatcher.start()
    shadow = (_shadow(provider, sample=1.0, max_cost_per_day=8.0),)  # a copy costs $5
    dispatcher.offer("prod-chat", shadow, BODY, False, PRIMARY, "req_1")
    await _settle(dispatcher, pairs, 1)
    dispatcher.offer("prod-chat", shadow, BODY, False, PRIMARY, "req_2")  # $5 < $8: allowed
    await _settle(dispatcher, pairs, 2)
    dispatcher.offer("prod-chat", shadow, BODY, False, PRIMARY, "req_3")  # $10 spent: refused
    assert dispatcher.dropped["over_budget"] == 1
    await dispatcher.stop()
    assert len(pairs) == 2


async def test_stop_drops_queued_copies_and_refuses_new_ones() -> None:
    provider = FakeProvider()  # never released: the workers hang until cancelled
    dispatcher = ShadowDispatcher(lambda _: None, concurrency=1)
    dispatcher.start()
    shadow = (_shadow(provider, sample=1.0),)
    for i in range(3):
        dispatcher.offer("prod-chat", shadow, BODY, False, PRIMARY, f"req_{i}")
    await asyncio.sleep(0.01)
    await dispatcher.stop()
    assert dispatcher.dropped["stopping"] == 2  # one was in flight and was cancelled
    dispatcher.offer("prod-chat", shadow, BODY, False, PRIMARY, "late")
    assert dispatcher.dropped["stopping"] == 3
    assert dispatcher.pending == 0
