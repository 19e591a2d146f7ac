"""The provider seam: what the gateway hands an adapter and what it gets back.

The gateway resolves an alias to a pinned version, builds one :class:`ChatRequest`
and calls a :class:`ChatProvider`; it never learns which wire protocol is behind
it. Answers cross the seam as OpenAI JSON objects (``chat.completion`` and
``chat.completion.chunk`` dicts), not as narrower values, because the gateway
speaks OpenAI to its own clients and must not drop fields it does not know
(``tool_calls``, ``logprobs``, ``system_fingerprint``, ``refusal``...). An
OpenAI-compatible upstream's JSON passes through untouched; other adapters
(Anthropic, the sim) translate into that shape.

Adapters raise only :class:`~turnout.errors.ProviderError` (upstream failed),
:class:`~turnout.errors.ProviderTimeout` (upstream too slow) and
:class:`~turnout.errors.InvalidInput` (the request cannot be expressed for this
upstream), converting their transport's exceptions with ``raise ... from exc``,
so the gateway can decide on a fallback without knowing about aiohttp or any SDK.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from turnout.domain.versions import ParamValue
from turnout.errors import InvalidInput

__all__ = [
    "TURNOUT_ONLY_PARAMS",
    "ChatChunk",
    "ChatCompletion",
    "ChatProvider",
    "ChatRequest",
    "JsonObject",
    "Usage",
    "completion_text",
    "message_text",
    "upstream_params",
    "usage_of",
]

JsonObject = Mapping[str, object]
"""A decoded JSON object, read-only: request bodies and chat messages."""

_RESERVED_FIELDS = frozenset({"model", "messages", "stream"})

TURNOUT_ONLY_PARAMS = frozenset({"error_rate", "jitter", "latency_ms", "quality", "ttft_ms"})
"""Version params that steer the sim and mean nothing to a real upstream.

They are dropped before a request leaves the process, so a version copied from a
sim setup does not get a 400 for ``unknown parameter latency_ms`` from OpenAI.
(``seed`` and ``max_tokens`` are real OpenAI fields and are kept.)
"""


def _is_param(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def message_text(message: JsonObject) -> str:
    """The text of one chat message: a string, or the text parts of a part list."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        ]
        return "\n".join(texts)
    return ""


def _validate_messages(raw: object) -> tuple[JsonObject, ...]:
    if not isinstance(raw, list) or not raw:
        raise InvalidInput("'messages' must be a non-empty array of chat messages")
    for index, message in enumerate(raw):
        if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
            raise InvalidInput(f"messages[{index}] must be an object with a string 'role'")
        content = message.get("content")
        if content is not None and not isinstance(content, str | list):
            raise InvalidInput(f"messages[{index}].content must be a string or an array of parts")
    return tuple(raw)


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat call to one pinned model.

    ``model`` is the model part of the version id (``chat-2025-01-01`` for
    ``sim/chat-2025-01-01``). ``params`` are the version's default params with the
    request's own scalar fields laid over them, so an adapter reads one mapping.
    ``body`` is the client's original OpenAI JSON, for OpenAI-compatible upstreams
    that take it as is (tools, response_format... pass through untouched).
    ``timeout_s`` bounds the wait for the first byte; past it the adapter raises
    :class:`~turnout.errors.ProviderTimeout`.
    """

    model: str
    messages: tuple[JsonObject, ...]
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    body: JsonObject = field(default_factory=dict)
    stream: bool = False
    timeout_s: float | None = None

    @classmethod
    def from_openai(
        cls,
        body: JsonObject,
        *,
        model: str,
        defaults: Mapping[str, ParamValue],
        timeout_s: float | None = None,
    ) -> ChatRequest:
        """Validate an OpenAI chat request body and merge it over the version defaults.

        Raises :class:`~turnout.errors.InvalidInput` for what OpenAI would answer
        with a 400, so the gateway and the sim server reject bad input alike.
        """
        messages = _validate_messages(body.get("messages"))
        stream = body.get("stream", False)
        if stream is None:
            stream = False
        if not isinstance(stream, bool):
            raise InvalidInput("'stream' must be true or false")
        params: dict[str, ParamValue] = dict(defaults)
        for key, value in body.items():
            if key not in _RESERVED_FIELDS and _is_param(value):
                params[key] = value  # type: ignore[assignment]  # narrowed by _is_param
        return cls(model, messages, params, body, stream, timeout_s)

    def prompt_text(self) -> str:
        """The last user message's text: what a simple model answers."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return message_text(message)
        return "\n".join(message_text(message) for message in self.messages)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the provider reported (or, for the sim, estimated) them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_openai(self) -> dict[str, object]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass(frozen=True, slots=True)
class ChatCompletion:
    """A whole answer as a value (the sim builds these); ``created`` is Unix seconds.

    Only :meth:`to_openai` crosses the provider seam.
    """

    id: str
    model: str
    content: str
    finish_reason: str = "stop"
    usage: Usage = field(default_factory=Usage)
    created: int = 0

    def to_openai(self) -> dict[str, object]:
        """The ``chat.completion`` object the OpenAI SDK parses."""
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.content},
                    "finish_reason": self.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": self.usage.to_openai(),
        }

    @classmethod
    def from_chunks(cls, chunks: Sequence[ChatChunk]) -> ChatCompletion:
        """Join a finished stream into one completion (shadow compare, request log)."""
        if not chunks:
            raise ValueError("a completion needs at least one chunk")
        finish = next((c.finish_reason for c in reversed(chunks) if c.finish_reason), "stop")
        usage = next((c.usage for c in reversed(chunks) if c.usage is not None), Usage())
        first = chunks[0]
        content = "".join(chunk.delta for chunk in chunks)
        return cls(first.id, first.model, content, finish, usage, first.created)


@dataclass(frozen=True, slots=True)
class ChatChunk:
    """One piece of a streamed answer.

    The first chunk carries ``role``; the last carries ``finish_reason`` and, when
    known, ``usage``. Joining every ``delta`` gives the completion's text.
    """

    id: str
    model: str
    delta: str = ""
    role: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    created: int = 0

    def to_openai(self) -> dict[str, object]:
        """The ``chat.completion.chunk`` object of an OpenAI SSE ``data:`` line."""
        delta: dict[str, object] = {}
        if self.role is not None:
            delta["role"] = self.role
        if self.delta or self.role is not None:
            delta["content"] = self.delta
        payload: dict[str, object] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "delta": delta,
                    "finish_reason": self.finish_reason,
                    "logprobs": None,
                }
            ],
        }
        if self.usage is not None:
            payload["usage"] = self.usage.to_openai()
        return payload


def upstream_params(request: ChatRequest) -> dict[str, ParamValue]:
    """The request's params without the sim-only knobs: what a real upstream may see."""
    return {k: v for k, v in request.params.items() if k not in TURNOUT_ONLY_PARAMS}


def usage_of(obj: Mapping[str, object]) -> tuple[int, int] | None:
    """(prompt, completion) tokens of a ``chat.completion`` or a stream's usage chunk.

    None when the object carries no usage (every chunk but the last, or an
    upstream that does not report it), so the request log records "unknown"
    rather than zero. Called on every chunk: a couple of lookups, no allocation.
    """
    usage = obj.get("usage")
    if not isinstance(usage, Mapping):
        return None
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if type(prompt) is not int or type(completion) is not int:  # bool is not a count
        return None
    return prompt, completion


def completion_text(obj: Mapping[str, object]) -> str:
    """The first choice's message text of a ``chat.completion`` ("" when it has none).

    For callers that only want the words (the demo, shadow comparison), so they do
    not each re-walk the OpenAI shape.
    """
    choices = obj.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        return ""
    message = choices[0].get("message")
    if not isinstance(message, Mapping):
        return ""
    content = message.get("content")
    return content if isinstance(content, str) else ""


class ChatProvider(Protocol):
    """A thin async adapter to one provider endpoint; one instance serves all its models.

    ``complete`` returns one OpenAI ``chat.completion`` object; ``stream`` yields
    OpenAI ``chat.completion.chunk`` objects (the gateway sets ``model`` on each and
    does the SSE framing, so adapters return fresh dicts it may mutate).

    ``stream`` is an async generator: when the call fails before any text (bad
    status, connection refused, timeout) it raises on the first ``__anext__``, so
    the gateway can still fall back before it has sent response headers. A stream
    that breaks later raises :class:`~turnout.errors.ProviderError` from the
    iterator, and the gateway ends its own stream with an error event. Cancelling
    the consuming task (the client went away) releases the upstream connection.
    ``aclose`` releases pooled connections; the composition root calls it once.
    """

    async def complete(self, request: ChatRequest) -> dict[str, object]: ...

    def stream(self, request: ChatRequest) -> AsyncIterator[dict[str, object]]: ...

    async def aclose(self) -> None: ...
