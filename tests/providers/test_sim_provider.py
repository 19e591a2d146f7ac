"""The async sim adapter: delays, failures, streaming, and the registry that builds it."""

from __future__ import annotations

import time
from collections.abc import Mapping

import pytest

from turnout.domain.providers import BUILTIN_PROVIDERS, ProviderConfig, ProviderKind
from turnout.domain.versions import ParamValue
from turnout.errors import Conflict, InvalidInput, ProviderError, ProviderTimeout
from turnout.providers import ChatProvider, ChatRequest, completion_text, usage_of
from turnout.providers.anthropic import AnthropicProvider
from turnout.providers.openai_compat import OpenAICompatProvider
from turnout.providers.registry import ProviderRegistry, builtin_registry
from turnout.providers.sim import SimProvider

pytestmark = pytest.mark.anyio


class FakeSleep:
    """Records requested delays instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def request(
    prompt: str = "What is 17 + 25?",
    params: Mapping[str, ParamValue] | None = None,
    model: str = "chat-2025-01-01",
    timeout_s: float | None = None,
) -> ChatRequest:
    messages = ({"role": "system", "content": "Be brief."}, {"role": "user", "content": prompt})
    return ChatRequest(model, messages, dict(params or {}), timeout_s=timeout_s)


async def collect(provider: ChatProvider, chat: ChatRequest) -> list[dict[str, object]]:
    return [chunk async for chunk in provider.stream(chat)]


def choice(obj: dict[str, object]) -> dict[str, object]:
    choices = obj["choices"]
    assert isinstance(choices, list)
    first = choices[0]
    assert isinstance(first, dict)
    return first


def delta(chunk: dict[str, object]) -> dict[str, object]:
    value = choice(chunk)["delta"]
    assert isinstance(value, dict)
    return value


def delta_text(chunk: dict[str, object]) -> str:
    return str(delta(chunk).get("content") or "")


async def test_complete_answers_with_usage_and_openai_shape() -> None:
    sim = SimProvider(seed=1, clock=lambda: 1_700_000_000.5)
    body = await sim.complete(request())
    assert completion_text(body) == "The answer is 42."
    assert body["model"] == "chat-2025-01-01"
    assert usage_of(body) == ((3 + 3) + (6 + 3), 5)
    assert body["object"] == "chat.completion"
    assert body["created"] == 1_700_000_000
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "The answer is 42."},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ]
    assert body["usage"] == {"prompt_tokens": 15, "completion_tokens": 5, "total_tokens": 20}
    await sim.aclose()


async def test_latency_is_respected_for_completions() -> None:
    sim = SimProvider()
    started = time.perf_counter()
    await sim.complete(request(params={"latency_ms": 60, "jitter": 0}))
    assert time.perf_counter() - started >= 0.055


async def test_stream_waits_for_ttft_then_the_rest() -> None:
    sim = SimProvider()
    stream = sim.stream(request(params={"latency_ms": 80, "ttft_ms": 40, "jitter": 0}))
    started = time.perf_counter()
    first = await anext(stream)
    first_at = time.perf_counter() - started
    rest = [chunk async for chunk in stream]
    total = time.perf_counter() - started
    assert choice(first)["delta"] == {"role": "assistant", "content": "The"}
    assert first_at >= 0.035
    assert total >= 0.075
    assert choice(rest[-1])["finish_reason"] == "stop"


async def test_stream_delays_are_spread_over_the_chunks() -> None:
    sleep = FakeSleep()
    sim = SimProvider(sleep=sleep)
    chunks = await collect(sim, request(params={"latency_ms": 100, "ttft_ms": 40, "jitter": 0}))
    assert len(chunks) == 5  # four words + the final chunk
    assert sleep.calls[0] == pytest.approx(0.040)
    assert sleep.calls[1:] == pytest.approx([0.020] * 3)
    assert sum(sleep.calls) == pytest.approx(0.100)


async def test_stream_reassembles_to_the_completion() -> None:
    for prompt in ["What is 6 times 7?", "Tell me something about railway switches"]:
        params = {"quality": 0.5, "seed": 4}
        whole = await SimProvider(sleep=FakeSleep()).complete(request(prompt, params))
        chunks = await collect(SimProvider(sleep=FakeSleep()), request(prompt, params))
        assert len(chunks) >= 3
        assert sum(1 for c in chunks if "role" in delta(c)) == 1
        assert [choice(c)["finish_reason"] for c in chunks[:-1]] == [None] * (len(chunks) - 1)
        assert "".join(delta_text(c) for c in chunks) == completion_text(whole)
        assert [usage_of(c) for c in chunks[:-1]] == [None] * (len(chunks) - 1)
        assert usage_of(chunks[-1]) == usage_of(whole)
        assert choice(chunks[-1])["finish_reason"] == choice(whole)["finish_reason"]
        assert {c["id"] for c in chunks} == {whole["id"]}


async def test_chunk_openai_shape() -> None:
    chunks = await collect(SimProvider(sleep=FakeSleep()), request())
    first, last = chunks[0], chunks[-1]
    assert first["object"] == "chat.completion.chunk"
    assert first["choices"] == [
        {
            "index": 0,
            "delta": {"role": "assistant", "content": "The"},
            "finish_reason": None,
            "logprobs": None,
        }
    ]
    assert "usage" not in first
    assert last["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop", "logprobs": None}]
    assert last["usage"] == {"prompt_tokens": 15, "completion_tokens": 5, "total_tokens": 20}


async def test_simulated_errors_are_provider_errors_500() -> None:
    sim = SimProvider(sleep=FakeSleep())
    with pytest.raises(ProviderError, match="simulated upstream error") as caught:
        await sim.complete(request(params={"error_rate": 1.0}))
    assert caught.value.status == 500
    assert caught.value.retryable
    stream = sim.stream(request(params={"error_rate": 1.0}))
    with pytest.raises(ProviderError):
        await anext(stream)


async def test_timeout_raises_provider_timeout_after_waiting_only_the_timeout() -> None:
    sleep = FakeSleep()
    sim = SimProvider(sleep=sleep)
    with pytest.raises(ProviderTimeout):
        await sim.complete(request(params={"latency_ms": 5000}, timeout_s=0.5))
    assert sleep.calls == [0.5]
    slow_first_token = request(params={"latency_ms": 5000, "ttft_ms": 2000}, timeout_s=1.0)
    with pytest.raises(ProviderTimeout):
        await anext(sim.stream(slow_first_token))
    fast_first_token = request(params={"latency_ms": 5000, "ttft_ms": 100}, timeout_s=1.0)
    assert len(await collect(sim, fast_first_token)) == 5


async def test_bad_params_fail_before_waiting() -> None:
    sleep = FakeSleep()
    with pytest.raises(InvalidInput, match="quality"):
        await SimProvider(sleep=sleep).complete(request(params={"quality": 3}))
    assert sleep.calls == []


async def test_same_seed_same_sequence_per_model() -> None:
    params = {"quality": 0.5}

    async def answers(sim: SimProvider, model: str) -> list[str]:
        return [
            completion_text(await sim.complete(request(params=params, model=model)))
            for _ in range(20)
        ]

    one, two = SimProvider(seed=9), SimProvider(seed=9)
    await answers(one, "other-model")  # traffic to another model does not shift this one
    assert await answers(one, "m") == await answers(two, "m")


async def test_registry_builds_every_builtin_kind_lazily_and_refuses_unknown_kinds() -> None:
    registry = builtin_registry()
    assert registry.kinds() == frozenset(ProviderKind)
    assert isinstance(registry.create(BUILTIN_PROVIDERS["sim"]), SimProvider)
    openai = registry.create(BUILTIN_PROVIDERS["openai"])
    assert isinstance(openai, OpenAICompatProvider)
    anthropic = registry.create(BUILTIN_PROVIDERS["anthropic"])
    assert isinstance(anthropic, AnthropicProvider)
    assert repr(anthropic) == (
        "AnthropicProvider(name='anthropic', base_url='https://api.anthropic.com')"
    )
    for provider in (openai, anthropic):  # no session was opened: closing is a no-op
        await provider.aclose()
    with pytest.raises(InvalidInput, match="no adapter for kind 'openai'"):
        ProviderRegistry().create(BUILTIN_PROVIDERS["openai"])
    with pytest.raises(Conflict):
        registry.register(ProviderKind.SIM, lambda config: SimProvider())


async def test_a_new_kind_is_added_by_registering_a_factory() -> None:
    registry = ProviderRegistry()
    seen: list[ProviderConfig] = []

    def factory(config: ProviderConfig) -> ChatProvider:
        seen.append(config)
        return SimProvider(seed=1)

    registry.register(ProviderKind.ANTHROPIC, factory)
    provider = registry.create(BUILTIN_PROVIDERS["anthropic"])
    assert seen == [BUILTIN_PROVIDERS["anthropic"]]
    assert completion_text(await provider.complete(request())) == "The answer is 42."
