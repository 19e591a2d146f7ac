"""``sim``: the built-in simulated model, so demos and tests need no keys and no network.

Register a version such as ``sim/chat-2025-01-01`` with params ``latency_ms``,
``ttft_ms``, ``error_rate``, ``quality``, ``jitter`` and ``seed`` (see
:mod:`turnout.providers.sim_brain`) and the gateway serves it like any upstream:
same latency shape, same failures, same streaming, from a seeded, reproducible
brain. This module only adds time: it sleeps as the brain says and packages the
outcome as :class:`ChatCompletion` and :class:`ChatChunk` values, handed over in
their OpenAI JSON shape like every adapter's. ``sleep`` and ``clock`` are
injected so tests can run it without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from turnout.domain.providers import ProviderConfig
from turnout.errors import ProviderError, ProviderTimeout
from turnout.providers.base import ChatChunk, ChatCompletion, ChatRequest, Usage, message_text
from turnout.providers.sim_brain import SimBrain, SimOutcome, SimParams, count_tokens, split_chunks

__all__ = ["SimProvider", "create_sim_provider"]

Sleep = Callable[[float], Awaitable[None]]

_MESSAGE_OVERHEAD_TOKENS = 3
"""Per-message framing tokens, roughly what OpenAI's chat format adds."""


async def _asyncio_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


def _prompt_tokens(request: ChatRequest) -> int:
    return sum(
        count_tokens(message_text(message)) + _MESSAGE_OVERHEAD_TOKENS
        for message in request.messages
    )


class SimProvider:
    """A :class:`~turnout.providers.base.ChatProvider` backed by :class:`SimBrain`.

    One instance serves every sim model; each model counts its own calls, so a
    version's sequence of answers depends only on the seed and its own traffic.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        sleep: Sleep = _asyncio_sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._brain = SimBrain(seed)
        self._sleep = sleep
        self._clock = clock
        self._counters: dict[str, int] = {}

    def _decide(self, request: ChatRequest) -> SimOutcome:
        params = SimParams.parse(request.params)  # InvalidInput before any waiting
        counter = self._counters.get(request.model, 0)
        self._counters[request.model] = counter + 1
        return self._brain.decide(request.model, params, request.prompt_text(), counter)

    async def _wait(self, delay_ms: float, timeout_s: float | None) -> None:
        """Sleep ``delay_ms``, or only until the timeout and then raise ProviderTimeout."""
        if timeout_s is not None and delay_ms / 1000.0 > timeout_s:
            await self._sleep(timeout_s)
            raise ProviderTimeout(f"sim did not answer within {timeout_s:g}s")
        if delay_ms > 0:
            await self._sleep(delay_ms / 1000.0)

    def _fail(self, outcome: SimOutcome) -> ProviderError:
        return ProviderError(outcome.error or "simulated error", status=500, retryable=True)

    def _usage(self, request: ChatRequest, outcome: SimOutcome) -> Usage:
        return Usage(_prompt_tokens(request), count_tokens(outcome.text))

    async def complete(self, request: ChatRequest) -> dict[str, object]:
        """Wait the whole latency, then answer (or fail as an upstream 500)."""
        outcome = self._decide(request)
        await self._wait(outcome.latency_ms, request.timeout_s)
        if outcome.error is not None:
            raise self._fail(outcome)
        return ChatCompletion(
            id=f"chatcmpl-sim-{outcome.digest[:24]}",
            model=request.model,
            content=outcome.text,
            finish_reason=outcome.finish_reason,
            usage=self._usage(request, outcome),
            created=int(self._clock()),
        ).to_openai()

    async def stream(self, request: ChatRequest) -> AsyncIterator[dict[str, object]]:
        """Yield the answer word by word: first after ``ttft``, the rest spread evenly.

        A simulated failure raises before the first chunk, as a real upstream's
        error status would.
        """
        outcome = self._decide(request)
        await self._wait(outcome.ttft_ms, request.timeout_s)
        if outcome.error is not None:
            raise self._fail(outcome)
        chunk_id, created = f"chatcmpl-sim-{outcome.digest[:24]}", int(self._clock())
        pieces = split_chunks(outcome.text)
        gap_ms = (outcome.latency_ms - outcome.ttft_ms) / max(len(pieces) - 1, 1)
        for index, piece in enumerate(pieces):
            if index > 0 and gap_ms > 0:
                await self._sleep(gap_ms / 1000.0)
            role = "assistant" if index == 0 else None
            yield ChatChunk(chunk_id, request.model, piece, role=role, created=created).to_openai()
        yield ChatChunk(
            chunk_id,
            request.model,
            finish_reason=outcome.finish_reason,
            usage=self._usage(request, outcome),
            created=created,
        ).to_openai()

    async def aclose(self) -> None:
        """Nothing to release: the sim holds no connections."""


def create_sim_provider(config: ProviderConfig) -> SimProvider:
    """Registry factory: one sim per configured provider, seed 0 unless a version sets one."""
    del config  # the sim has no endpoint or key; every knob is a version param
    return SimProvider()
