"""OpenAI <-> Anthropic Messages API translation, with no I/O.

The gateway speaks OpenAI to its clients, so a version pinned to
``anthropic/claude-...`` needs its request rewritten into a Messages API call
and its answer (whole, or event by event) rewritten back into OpenAI objects.
Keeping that apart from the HTTP adapter (``anthropic.py``) makes every mapping
a plain unit test.

Covered: system/developer messages (joined into ``system``), user and
assistant messages with string content or text parts, ``max_tokens`` /
``max_completion_tokens`` (default :data:`DEFAULT_MAX_TOKENS`, since Anthropic
requires one), ``temperature``, ``top_p``, ``top_k``, ``stop``, ``user``.
Tools, images and ``n > 1`` are refused with :class:`~turnout.errors.InvalidInput`
rather than silently dropped: an answer to a different question is worse than a 400.
"""

from __future__ import annotations

from collections.abc import Mapping

from turnout.errors import InvalidInput, ProviderError
from turnout.providers.base import ChatRequest, message_text

__all__ = [
    "ANTHROPIC_VERSION",
    "DEFAULT_MAX_TOKENS",
    "AnthropicStream",
    "finish_reason",
    "from_anthropic",
    "is_retryable_error",
    "to_anthropic",
]

ANTHROPIC_VERSION = "2023-06-01"
"""The ``anthropic-version`` header: the API contract these mappings were written for."""

DEFAULT_MAX_TOKENS = 1024
"""Anthropic requires ``max_tokens``; OpenAI does not, so a request may lack one."""

_TOOL_FIELDS = ("tools", "tool_choice", "functions", "function_call")
_SYSTEM_ROLES = frozenset({"system", "developer"})
_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
_RETRYABLE_ERRORS = frozenset(
    {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}
)


def _content(message: Mapping[str, object], index: int) -> object:
    """String content as is; a part list as Anthropic text blocks (text parts only)."""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    blocks: list[dict[str, object]] = []
    for part in content if isinstance(content, list) else ():
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind != "text" or not isinstance(part.get("text"), str):
            raise InvalidInput(
                f"messages[{index}]: the anthropic adapter supports text content parts only "
                f"(got {kind!r})"
            )
        blocks.append({"type": "text", "text": part["text"]})
    return blocks


def _max_tokens(request: ChatRequest) -> int:
    for name in ("max_completion_tokens", "max_tokens"):
        value = request.params.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInput(f"'{name}' must be a positive integer")
        return value
    return DEFAULT_MAX_TOKENS


def _stop_sequences(request: ChatRequest) -> list[str] | None:
    stop = request.body["stop"] if "stop" in request.body else request.params.get("stop")
    if stop is None:
        return None
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list) and all(isinstance(item, str) for item in stop):
        return [str(item) for item in stop]
    raise InvalidInput("'stop' must be a string or an array of strings")


def _refuse_unsupported(request: ChatRequest) -> None:
    for name in _TOOL_FIELDS:
        if request.body.get(name) is not None:
            raise InvalidInput(
                f"'{name}' is not supported for anthropic models yet: tool calling goes "
                "through OpenAI-compatible providers only"
            )
    n = request.params.get("n")
    if n is not None and n != 1:
        raise InvalidInput("'n' must be 1 for anthropic models (one choice per request)")


def to_anthropic(request: ChatRequest, *, stream: bool) -> dict[str, object]:
    """The Messages API body for an OpenAI-shaped request; raises before any I/O."""
    _refuse_unsupported(request)
    system: list[str] = []
    messages: list[dict[str, object]] = []
    for index, message in enumerate(request.messages):
        role = message.get("role")
        if role in _SYSTEM_ROLES:
            system.append(message_text(message))
            continue
        if role not in ("user", "assistant") or message.get("tool_calls"):
            raise InvalidInput(
                f"messages[{index}]: role {role!r} is not supported for anthropic models "
                "(tool messages need tool calling)"
            )
        messages.append({"role": role, "content": _content(message, index)})
    if not messages:
        raise InvalidInput("an anthropic request needs a user message besides system messages")
    payload: dict[str, object] = {
        "model": request.model,
        "max_tokens": _max_tokens(request),
        "messages": messages,
    }
    if system:
        payload["system"] = "\n\n".join(system)
    for name in ("temperature", "top_p", "top_k"):
        value = request.params.get(name)
        if value is not None:
            payload[name] = value
    stop = _stop_sequences(request)
    if stop:
        payload["stop_sequences"] = stop
    user = request.params.get("user")
    if isinstance(user, str) and user:
        payload["metadata"] = {"user_id": user}
    if stream:
        payload["stream"] = True
    return payload


def finish_reason(stop_reason: object) -> str | None:
    """OpenAI's ``finish_reason`` for Anthropic's ``stop_reason`` (None while running)."""
    if stop_reason is None:
        return None
    return _FINISH.get(str(stop_reason), "stop")


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _usage(input_tokens: int, cache_read: int, output_tokens: int) -> dict[str, object]:
    """OpenAI counts cached prompt tokens inside ``prompt_tokens``; Anthropic apart."""
    prompt = input_tokens + cache_read
    return {
        "prompt_tokens": prompt,
        "completion_tokens": output_tokens,
        "total_tokens": prompt + output_tokens,
        "prompt_tokens_details": {"cached_tokens": cache_read},
    }


def _prompt_counts(usage: Mapping[str, object]) -> tuple[int, int]:
    """(input tokens including cache writes, cache reads)."""
    written = _int(usage.get("input_tokens")) + _int(usage.get("cache_creation_input_tokens"))
    return written, _int(usage.get("cache_read_input_tokens"))


def from_anthropic(payload: Mapping[str, object], *, created: int) -> dict[str, object]:
    """The OpenAI ``chat.completion`` for a Messages API answer (text blocks joined)."""
    if payload.get("type") != "message":
        raise ProviderError("anthropic answered with something other than a message")
    blocks = payload.get("content")
    text = "".join(
        str(block["text"])
        for block in (blocks if isinstance(blocks, list) else ())
        if isinstance(block, Mapping) and block.get("type") == "text" and "text" in block
    )
    completion: dict[str, object] = {
        "id": payload.get("id", ""),
        "object": "chat.completion",
        "created": created,
        "model": payload.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "finish_reason": finish_reason(payload.get("stop_reason")) or "stop",
                "logprobs": None,
            }
        ],
    }
    usage = payload.get("usage")
    if isinstance(usage, Mapping):
        completion["usage"] = _usage(*_prompt_counts(usage), _int(usage.get("output_tokens")))
    return completion


def is_retryable_error(payload: Mapping[str, object]) -> bool:
    """Whether an ``error`` event says "try elsewhere" (overloaded) or "fix the request"."""
    error = payload.get("error")
    return isinstance(error, Mapping) and error.get("type") in _RETRYABLE_ERRORS


class AnthropicStream:
    """Anthropic stream events in, OpenAI chunk dicts out, one event at a time.

    ``message_start`` gives the first chunk (role ``assistant``), each text delta a
    content chunk, and ``message_stop`` the final chunk with ``finish_reason`` and
    ``usage`` (collected from ``message_start`` and ``message_delta``). ``done``
    tells the adapter whether the stream ended properly. ``ping``, block
    boundaries and non-text deltas (thinking) yield nothing; ``error`` events
    are the adapter's business, since it alone may see the API key to scrub.
    """

    def __init__(self, model: str, created: int) -> None:
        self.done = False
        self._id = ""
        self._model = model
        self._created = created
        self._prompt = (0, 0)
        self._output = 0
        self._finish: str | None = None

    def _chunk(self, delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    def _count(self, usage: object) -> None:
        if not isinstance(usage, Mapping):
            return
        if "input_tokens" in usage or "cache_read_input_tokens" in usage:
            self._prompt = _prompt_counts(usage)
        if "output_tokens" in usage:
            self._output = _int(usage.get("output_tokens"))

    def feed(self, event: Mapping[str, object]) -> dict[str, object] | None:
        """The OpenAI chunk for one decoded event, or None when it carries no news."""
        kind = event.get("type")
        if kind == "content_block_delta":
            delta = event.get("delta")
            if isinstance(delta, Mapping) and delta.get("type") == "text_delta":
                return self._chunk({"content": str(delta.get("text", ""))})
            return None
        if kind == "message_start":
            message = event.get("message")
            if isinstance(message, Mapping):
                self._id = str(message.get("id", ""))
                self._model = str(message.get("model") or self._model)
                self._count(message.get("usage"))
            return self._chunk({"role": "assistant", "content": ""})
        if kind == "message_delta":
            delta = event.get("delta")
            if isinstance(delta, Mapping):
                self._finish = finish_reason(delta.get("stop_reason")) or self._finish
            self._count(event.get("usage"))
            return None
        if kind == "message_stop":
            self.done = True
            chunk = self._chunk({}, self._finish or "stop")
            chunk["usage"] = _usage(*self._prompt, self._output)
            return chunk
        return None
