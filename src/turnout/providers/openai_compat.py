"""``openai``: any server that speaks OpenAI's chat completions API.

OpenAI itself, Azure OpenAI, vLLM, Ollama, OpenRouter, Gemini's and Mistral's
OpenAI endpoints, and turnout's own sim server. Since the gateway already speaks
this protocol, the adapter is a pass-through: the client's JSON goes up with the
pinned model id and the version's default params filled in, and the upstream's
JSON comes back untouched, so fields turnout does not know (``tool_calls``,
``logprobs``, ``system_fingerprint``, ``refusal``...) survive.

Azure OpenAI's v1 API (``base_url: https://RESOURCE.openai.azure.com/openai/v1``)
is plain OpenAI. Its classic deployments API differs only in how it
authenticates (an ``api-key`` header) and in the ``api-version`` query
parameter: the provider's ``auth: api-key`` and ``api_version`` in turnout.yaml,
with the deployment's URL as ``base_url``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Literal

import orjson
from yarl import URL

from turnout.domain.providers import ApiKeyAuth, ProviderConfig
from turnout.errors import InvalidInput, ProviderError
from turnout.providers.base import ChatRequest, upstream_params
from turnout.providers.sse import SSEEvent
from turnout.providers.upstream import Upstream, drain, event_error, read_api_key

__all__ = ["OpenAICompatProvider", "create_openai_provider"]

AuthHeader = Literal["authorization", "api-key"]

_DONE = b"[DONE]"


class OpenAICompatProvider:
    """A :class:`~turnout.providers.base.ChatProvider` for one OpenAI-compatible endpoint.

    One pooled session serves every model and every concurrent request of the
    endpoint; the key is read from ``config.api_key_env`` on each call (so a
    rotated key needs no restart) and is never stored on the instance.
    """

    def __init__(
        self,
        config: ProviderConfig,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 600.0,
        max_connections: int = 0,
        auth_header: AuthHeader = "authorization",
        query: Mapping[str, str] | None = None,
    ) -> None:
        if config.base_url is None:
            raise InvalidInput(f"provider '{config.name}' needs a base_url")
        self._config = config
        url = URL(config.base_url.rstrip("/") + "/chat/completions")
        self._url = url.update_query(dict(query)) if query else url
        self._auth_header = auth_header
        self._upstream = Upstream(
            config.name,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_connections=max_connections,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self._config.name!r}, base_url={self._config.base_url!r})"
        )

    def _headers(self) -> tuple[dict[str, str], str | None]:
        key = read_api_key(self._config)
        headers = {"content-type": "application/json"}
        if key is not None:
            if self._auth_header == "api-key":
                headers["api-key"] = key
            else:
                headers["authorization"] = f"Bearer {key}"
        return headers, key

    def _body(self, request: ChatRequest, *, stream: bool) -> bytes:
        """Version defaults, then the client's own JSON over them, then the pinned model."""
        payload: dict[str, object] = {**upstream_params(request), **request.body}
        payload["model"] = request.model
        payload.setdefault("messages", list(request.messages))
        if stream:
            payload["stream"] = True
            if "stream_options" not in request.body:  # usage feeds the request log
                payload["stream_options"] = {"include_usage": True}
        else:  # OpenAI refuses stream_options on a non-streamed call
            payload.pop("stream", None)
            payload.pop("stream_options", None)
        return orjson.dumps(payload)

    async def complete(self, request: ChatRequest) -> dict[str, object]:
        """POST and return the upstream's ``chat.completion`` JSON as it came."""
        headers, key = self._headers()
        completion = await self._upstream.post_json(
            self._url,
            self._body(request, stream=False),
            headers,
            timeout_s=request.timeout_s,
            secret=key,
        )
        if "choices" not in completion:
            if "error" in completion:
                raise event_error(self._config.name, completion, key)
            raise ProviderError(f"{self._config.name} answered without 'choices'")
        return completion

    async def stream(self, request: ChatRequest) -> AsyncIterator[dict[str, object]]:
        """Yield each upstream ``chat.completion.chunk`` as soon as its event arrives.

        Fails on the first ``__anext__`` when the call fails before any chunk
        (timeout_s bounds the wait for the first event); a stream that stops
        before ``data: [DONE]`` raises :class:`ProviderError` where it stopped.
        """
        headers, key = self._headers()
        events = self._upstream.post_events(
            self._url,
            self._body(request, stream=True),
            headers,
            timeout_s=request.timeout_s,
            secret=key,
        )
        try:
            async for event in events:
                if event.data == _DONE:
                    await drain(events)
                    return
                yield self._chunk(event, key)
            raise ProviderError(f"{self._config.name} ended its stream without [DONE]")
        finally:
            await events.aclose()

    def _chunk(self, event: SSEEvent, key: str | None) -> dict[str, object]:
        try:
            chunk = orjson.loads(event.data)
        except orjson.JSONDecodeError as exc:
            raise ProviderError(
                f"{self._config.name} sent a stream event that is not JSON"
            ) from exc
        if not isinstance(chunk, dict):
            raise ProviderError(f"{self._config.name} sent a stream event that is not an object")
        if "error" in chunk and "choices" not in chunk:
            raise event_error(self._config.name, chunk, key)
        return chunk

    async def aclose(self) -> None:
        """Close the connection pool (the composition root calls this once, at shutdown)."""
        await self._upstream.aclose()


def create_openai_provider(config: ProviderConfig) -> OpenAICompatProvider:
    """Registry factory: the config's auth (bearer by default) and api-version, default timeouts."""
    auth: AuthHeader = "api-key" if config.auth is ApiKeyAuth.API_KEY else "authorization"
    query = {"api-version": config.api_version} if config.api_version else None
    return OpenAICompatProvider(config, auth_header=auth, query=query)
