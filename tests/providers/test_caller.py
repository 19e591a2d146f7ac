"""ProviderModelCaller: calls one version through its adapter; failures become values."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from turnout.domain.ids import VersionId
from turnout.domain.providers import ProviderConfig, ProviderKind
from turnout.errors import NotFound, ProviderError
from turnout.providers.base import ChatChunk, ChatCompletion, ChatRequest, Usage
from turnout.providers.caller import CallTarget, ProviderModelCaller
from turnout.providers.registry import ProviderRegistry

SIM = ProviderConfig("sim", ProviderKind.SIM)
USER = [{"role": "user", "content": "What is 17 + 25?"}]


def _lookup(params: dict[str, object] | None = None, prices: tuple[float, float] | None = None):  # type: ignore[no-untyped-def]
    calls: list[str] = []

    def lookup(version: str) -> CallTarget:
        calls.append(version)
        if "nope" in version:
            raise NotFound(f"version {version} is not registered")
        price_in, price_out = prices or (None, None)
        return CallTarget(VersionId.parse(version), SIM, params or {}, price_in, price_out)

    lookup.calls = calls  # type: ignore[attr-defined]
    return lookup


def test_a_sim_call_returns_text_tokens_and_cost() -> None:
    lookup = _lookup({"latency_ms": 0}, prices=(2.0, 8.0))
    caller = ProviderModelCaller(lookup)

    async def go():  # type: ignore[no-untyped-def]
        try:
            first = await caller.call("sim/chat-001", USER)
            second = await caller.call("sim/chat-001", USER, {"temperature": 0})
            return first, second
        finally:
            await caller.aclose()

    first, second = asyncio.run(go())
    assert first.ok
    assert first.text == "The answer is 42."
    assert (first.tokens_in, first.tokens_out) == (9, 5)
    assert first.cost_usd == pytest.approx((9 * 2.0 + 5 * 8.0) / 1_000_000)
    assert first.ttft_ms is None
    assert second.ok
    assert lookup.calls == ["sim/chat-001"]  # looked up once, then cached


def test_streaming_collects_the_text_and_the_first_token_time() -> None:
    ticks = iter(range(0, 1000, 5))
    caller = ProviderModelCaller(_lookup(), stream=True, monotonic=lambda: next(ticks) / 1000)
    completion = asyncio.run(caller.call("sim/chat-001", USER))
    assert completion.text == "The answer is 42."
    assert completion.ttft_ms == pytest.approx(5.0)
    assert completion.latency_ms > completion.ttft_ms
    assert (completion.tokens_in, completion.tokens_out) == (9, 5)


def test_upstream_failures_and_timeouts_are_completions_with_an_error() -> None:
    failing = ProviderModelCaller(_lookup({"error_rate": 1.0}))
    failed = asyncio.run(failing.call("sim/chat-001", USER))
    assert not failed.ok
    assert failed.text == ""
    assert failed.error is not None
    assert failed.error.startswith("provider_error: simulated upstream error")
    slow = ProviderModelCaller(_lookup({"latency_ms": 5000}))
    timed_out = asyncio.run(slow.call("sim/chat-001", USER, timeout_s=0.01))
    assert timed_out.error is not None
    assert "timeout" in timed_out.error
    bad_param = ProviderModelCaller(_lookup({"quality": 7}))
    refused = asyncio.run(bad_param.call("sim/chat-001", USER))
    assert refused.error is not None
    assert refused.error.startswith("invalid_input:")


def test_an_unknown_version_raises_not_found() -> None:
    caller = ProviderModelCaller(_lookup())
    with pytest.raises(NotFound, match="not registered"):
        asyncio.run(caller.call("sim/nope-001", USER))


class Broken:
    """An adapter that fails in the ways a real one might, including with a bug."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.closed = False

    async def complete(self, request: ChatRequest) -> dict[str, object]:
        if self.mode == "bug":
            raise KeyError("choices")
        if self.mode == "error":
            raise ProviderError("upstream 503", status=503)
        return ChatCompletion("id", request.model, "ok", usage=Usage(1, 1)).to_openai()

    async def stream(self, request: ChatRequest) -> AsyncIterator[dict[str, object]]:
        yield ChatChunk("id", request.model, "half", role="assistant").to_openai()
        raise ProviderError("stream cut")

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("mode", "stream", "error"),
    [
        ("bug", False, "KeyError: 'choices'"),
        ("error", False, "provider_error: upstream 503"),
        ("ok", True, "provider_error: stream cut"),
    ],
)
def test_adapter_failures_never_raise(mode: str, stream: bool, error: str) -> None:
    adapter = Broken(mode)
    registry = ProviderRegistry()
    registry.register(ProviderKind.SIM, lambda _config: adapter)
    caller = ProviderModelCaller(_lookup(), registry, stream=stream)

    async def go():  # type: ignore[no-untyped-def]
        try:
            return await caller.call("sim/chat-001", USER)
        finally:
            await caller.aclose()

    completion = asyncio.run(go())
    assert completion.error == error
    assert adapter.closed
