"""Call one pinned version directly: the :class:`~turnout.ports.ModelCaller` for evals,
judges and replay.

The gateway's route building is for live traffic (a routing snapshot, aliases,
arms); an eval calls a *version*, with no alias, no request log and no fallback,
because the point is to measure that exact version. What a call needs — the
provider endpoint, the version's default params and its list prices — comes from
a :data:`TargetLookup` the composition root builds over the registry
(``turnout.wiring.build_model_caller``), so this module never imports services.

Failures are values: a provider error, a timeout or even an adapter bug becomes
a :class:`~turnout.domain.completions.Completion` with ``error`` set, so one bad
case never stops a run of a thousand. Only an unknown version raises
(:class:`~turnout.errors.NotFound`, from the lookup): that is a mistake in the
request, not an outcome to score.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from turnout.domain.completions import Completion, Message
from turnout.domain.ids import VersionId
from turnout.domain.providers import ProviderConfig
from turnout.domain.requests import estimate_cost
from turnout.domain.versions import ParamValue
from turnout.errors import TurnoutError
from turnout.providers.base import ChatProvider, ChatRequest, completion_text, usage_of
from turnout.providers.registry import ProviderRegistry, builtin_registry

__all__ = ["CallTarget", "ProviderModelCaller", "TargetLookup"]


@dataclass(frozen=True, slots=True)
class CallTarget:
    """Everything needed to call one registered version (prices in USD per million tokens)."""

    version: VersionId
    provider: ProviderConfig
    params: Mapping[str, ParamValue]
    price_in: float | None = None
    price_out: float | None = None


TargetLookup = Callable[[str], CallTarget]
"""Version id -> its call target; raises :class:`~turnout.errors.NotFound` if unregistered."""


def _scalar_params(params: Mapping[str, object] | None) -> dict[str, object]:
    return {
        key: value
        for key, value in (params or {}).items()
        if value is None or isinstance(value, str | int | float | bool)
    }


class ProviderModelCaller:
    """Implements :class:`~turnout.ports.ModelCaller` over the provider adapters.

    Adapters are created on first use per provider configuration and closed by
    :meth:`aclose`; call targets are looked up once per version and cached, so a
    run of a thousand cases reads the registry once. ``stream=True`` calls the
    adapter's stream and records the time to first token; ``monotonic`` is the
    timer (injectable for tests).
    """

    def __init__(
        self,
        lookup: TargetLookup,
        registry: ProviderRegistry | None = None,
        *,
        stream: bool = False,
        monotonic: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._lookup = lookup
        self._registry = registry or builtin_registry()
        self._stream = stream
        self._monotonic = monotonic
        self._targets: dict[str, CallTarget] = {}
        self._adapters: dict[ProviderConfig, ChatProvider] = {}

    def _target(self, version: str) -> CallTarget:
        target = self._targets.get(version)
        if target is None:
            target = self._targets[version] = self._lookup(version)
        return target

    def _adapter(self, config: ProviderConfig) -> ChatProvider:
        adapter = self._adapters.get(config)
        if adapter is None:
            adapter = self._adapters[config] = self._registry.create(config)
        return adapter

    async def call(
        self,
        version: str,
        messages: Sequence[Message],
        params: Mapping[str, object] | None = None,
        *,
        timeout_s: float = 60.0,
    ) -> Completion:
        """One call; never raises for a provider failure (see the module docstring)."""
        target = self._target(version)  # NotFound propagates: a caller's mistake
        started = self._monotonic()
        ttft: list[float] = []
        try:
            request = ChatRequest.from_openai(
                {"messages": [dict(m) for m in messages], **_scalar_params(params)},
                model=target.version.model,
                defaults=target.params,
                timeout_s=timeout_s,
            )
            adapter = self._adapter(target.provider)
            async with asyncio.timeout(timeout_s):
                if self._stream:
                    text, usage = await self._collect(adapter, request, started, ttft)
                else:
                    result = await adapter.complete(request)
                    text, usage = completion_text(result), usage_of(result)
        except TimeoutError:
            return self._failed(version, started, f"timeout: no answer within {timeout_s:g}s")
        except TurnoutError as exc:
            return self._failed(version, started, f"{exc.code}: {exc.message}")
        except Exception as exc:  # an adapter bug must not stop a run either
            return self._failed(version, started, f"{type(exc).__name__}: {exc}")
        tokens_in, tokens_out = usage if usage is not None else (None, None)
        return Completion(
            version=version,
            text=text,
            latency_ms=(self._monotonic() - started) * 1000.0,
            ttft_ms=ttft[0] if ttft else None,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=estimate_cost(tokens_in, tokens_out, target.price_in, target.price_out),
        )

    async def _collect(
        self, adapter: ChatProvider, request: ChatRequest, started: float, ttft: list[float]
    ) -> tuple[str, tuple[int, int] | None]:
        """Read a whole stream: its text, its usage, and when the first chunk came."""
        parts: list[str] = []
        usage: tuple[int, int] | None = None
        chunks = adapter.stream(request)
        try:
            async for chunk in chunks:
                if not ttft:
                    ttft.append((self._monotonic() - started) * 1000.0)
                usage = usage_of(chunk) or usage
                parts.append(_delta_text(chunk))
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
        return "".join(parts), usage

    def _failed(self, version: str, started: float, error: str) -> Completion:
        latency = (self._monotonic() - started) * 1000.0
        return Completion(version=version, text="", latency_ms=latency, error=error)

    async def aclose(self) -> None:
        """Close every adapter this caller opened."""
        adapters, self._adapters = list(self._adapters.values()), {}
        for adapter in adapters:
            with contextlib.suppress(Exception):
                await adapter.aclose()


def _delta_text(chunk: Mapping[str, object]) -> str:
    choices = chunk.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        return ""
    delta = choices[0].get("delta")
    if not isinstance(delta, Mapping):
        return ""
    content = delta.get("content")
    return content if isinstance(content, str) else ""
