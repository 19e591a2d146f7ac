"""``anthropic``: Claude models through the Messages API, served as OpenAI objects.

The wire mappings live in :mod:`turnout.providers.anthropic_wire`; this module
adds the HTTP: ``POST {base_url}/v1/messages`` with ``x-api-key`` and
``anthropic-version`` over the shared pooled session of
:class:`~turnout.providers.upstream.Upstream`, so errors, timeouts and
cancellation behave exactly as for OpenAI-compatible upstreams (Anthropic's 529
"overloaded" is a 5xx, hence retryable).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import orjson
from yarl import URL

from turnout.domain.providers import ProviderConfig
from turnout.errors import InvalidInput, ProviderError
from turnout.providers.anthropic_wire import (
    ANTHROPIC_VERSION,
    AnthropicStream,
    from_anthropic,
    is_retryable_error,
    to_anthropic,
)
from turnout.providers.base import ChatRequest
from turnout.providers.upstream import Upstream, drain, event_error, read_api_key

__all__ = ["AnthropicProvider", "create_anthropic_provider"]


class AnthropicProvider:
    """A :class:`~turnout.providers.base.ChatProvider` for one Anthropic endpoint.

    ``clock`` stamps ``created`` on the translated objects (Anthropic sends no
    timestamp); it is injected so tests can pin it.
    """

    def __init__(
        self,
        config: ProviderConfig,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 600.0,
        max_connections: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if config.base_url is None:
            raise InvalidInput(f"provider '{config.name}' needs a base_url")
        self._config = config
        base = config.base_url.rstrip("/")
        self._url = URL(base + ("/messages" if base.endswith("/v1") else "/v1/messages"))
        self._clock = clock
        self._upstream = Upstream(
            config.name,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_connections=max_connections,
        )

    def __repr__(self) -> str:
        name, base_url = self._config.name, self._config.base_url
        return f"{type(self).__name__}(name={name!r}, base_url={base_url!r})"

    def _headers(self) -> tuple[dict[str, str], str | None]:
        key = read_api_key(self._config)
        headers = {"content-type": "application/json", "anthropic-version": ANTHROPIC_VERSION}
        if key is not None:
            headers["x-api-key"] = key
        return headers, key

    async def complete(self, request: ChatRequest) -> dict[str, object]:
        """Translate, POST, and translate the message back into a ``chat.completion``."""
        body = orjson.dumps(to_anthropic(request, stream=False))
        headers, key = self._headers()
        message = await self._upstream.post_json(
            self._url, body, headers, timeout_s=request.timeout_s, secret=key
        )
        if message.get("type") == "error":
            raise event_error(
                self._config.name, message, key, retryable=is_retryable_error(message)
            )
        return from_anthropic(message, created=int(self._clock()))

    async def stream(self, request: ChatRequest) -> AsyncIterator[dict[str, object]]:
        """Yield OpenAI chunks as Anthropic's events arrive; fail first if the call fails.

        A stream that ends before ``message_stop`` (cut, or an ``error`` event
        such as ``overloaded_error`` mid-answer) raises :class:`ProviderError`.
        """
        body = orjson.dumps(to_anthropic(request, stream=True))
        headers, key = self._headers()
        translator = AnthropicStream(request.model, int(self._clock()))
        events = self._upstream.post_events(
            self._url, body, headers, timeout_s=request.timeout_s, secret=key
        )
        try:
            async for event in events:
                try:
                    data = orjson.loads(event.data)
                except orjson.JSONDecodeError as exc:
                    raise ProviderError(
                        f"{self._config.name} sent an event that is not JSON"
                    ) from exc
                if not isinstance(data, dict):
                    raise ProviderError(f"{self._config.name} sent an event that is not an object")
                if data.get("type") == "error":
                    retryable = is_retryable_error(data)
                    raise event_error(self._config.name, data, key, retryable=retryable)
                chunk = translator.feed(data)
                if chunk is not None:
                    yield chunk
                if translator.done:
                    await drain(events)
                    return
            raise ProviderError(f"{self._config.name} ended its stream before message_stop")
        finally:
            await events.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (the composition root calls this once, at shutdown)."""
        await self._upstream.aclose()


def create_anthropic_provider(config: ProviderConfig) -> AnthropicProvider:
    """Registry factory: default timeouts and an unlimited pool."""
    return AnthropicProvider(config)
