"""OpenAI <-> Anthropic translation as pure functions: requests, answers, stream events."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from turnout.domain.versions import ParamValue
from turnout.errors import InvalidInput, ProviderError
from turnout.providers import ChatRequest, completion_text, usage_of
from turnout.providers.anthropic_wire import (
    DEFAULT_MAX_TOKENS,
    AnthropicStream,
    finish_reason,
    from_anthropic,
    is_retryable_error,
    to_anthropic,
)

MODEL = "claude-sonnet-4-5-20250929"


def chat(
    messages: list[dict[str, object]],
    defaults: Mapping[str, ParamValue] | None = None,
    **fields: object,
) -> ChatRequest:
    body = {"model": "prod-chat", "messages": messages, **fields}
    return ChatRequest.from_openai(body, model=MODEL, defaults=defaults or {})


def test_system_messages_are_joined_and_turns_kept_in_order() -> None:
    request = chat(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Bonjour"},
            {"role": "user", "content": [{"type": "text", "text": "Ça va ?"}]},
        ]
    )
    assert to_anthropic(request, stream=False) == {
        "model": MODEL,
        "max_tokens": DEFAULT_MAX_TOKENS,
        "system": "Be brief.\n\nAnswer in French.",
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Bonjour"},
            {"role": "user", "content": [{"type": "text", "text": "Ça va ?"}]},
        ],
    }


def test_sampling_params_stop_user_and_stream_are_carried_over() -> None:
    request = chat(
        [{"role": "user", "content": "Hi"}],
        defaults={"temperature": 0.2, "top_k": 40, "latency_ms": 30},
        top_p=0.9,
        stop=["\n\n", "END"],
        max_tokens=100,
        user="team-a",
    )
    payload = to_anthropic(request, stream=True)
    assert payload["max_tokens"] == 100
    assert payload["temperature"] == 0.2  # a version default
    assert payload["top_p"] == 0.9
    assert payload["top_k"] == 40
    assert payload["stop_sequences"] == ["\n\n", "END"]
    assert payload["metadata"] == {"user_id": "team-a"}
    assert payload["stream"] is True
    assert "latency_ms" not in payload
    assert "system" not in payload


@pytest.mark.parametrize(
    ("fields", "defaults", "expected"),
    [
        ({"max_completion_tokens": 50, "max_tokens": 80}, {}, 50),
        ({"max_tokens": 80}, {"max_tokens": 2000}, 80),
        ({}, {"max_tokens": 2000}, 2000),
        ({}, {}, DEFAULT_MAX_TOKENS),
    ],
)
def test_max_tokens_comes_from_either_openai_field_or_the_default(
    fields: dict[str, object], defaults: dict[str, ParamValue], expected: int
) -> None:
    request = chat([{"role": "user", "content": "Hi"}], defaults, **fields)
    assert to_anthropic(request, stream=False)["max_tokens"] == expected


def test_a_single_stop_string_becomes_a_list() -> None:
    request = chat([{"role": "user", "content": "Hi"}], stop="END")
    assert to_anthropic(request, stream=False)["stop_sequences"] == ["END"]


@pytest.mark.parametrize(
    ("messages", "fields", "message"),
    [
        ([{"role": "user", "content": "x"}], {"tools": [{"type": "function"}]}, "'tools' is not"),
        ([{"role": "user", "content": "x"}], {"tool_choice": "auto"}, "'tool_choice' is not"),
        ([{"role": "user", "content": "x"}], {"n": 2}, "'n' must be 1"),
        ([{"role": "user", "content": "x"}], {"max_tokens": 0}, "'max_tokens' must be a positive"),
        ([{"role": "user", "content": "x"}], {"stop": [1]}, "'stop' must be a string"),
        ([{"role": "system", "content": "only"}], {}, "needs a user message"),
        (
            [{"role": "user", "content": "x"}, {"role": "tool", "content": "42"}],
            {},
            r"messages\[1\]: role 'tool' is not supported",
        ),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
            {},
            r"messages\[0\]: the anthropic adapter supports text content parts only",
        ),
    ],
    ids=["tools", "tool-choice", "n", "max-tokens", "stop", "only-system", "tool-role", "image"],
)
def test_what_cannot_be_translated_is_refused_before_any_call(
    messages: list[dict[str, object]], fields: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        to_anthropic(chat(messages, **fields), stream=False)


MESSAGE: dict[str, object] = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": MODEL,
    "content": [
        {"type": "thinking", "thinking": "hmm", "signature": "s"},
        {"type": "text", "text": "The answer "},
        {"type": "text", "text": "is 42."},
    ],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 10,
        "cache_creation_input_tokens": 2,
        "cache_read_input_tokens": 5,
        "output_tokens": 7,
    },
}


def test_a_message_becomes_a_chat_completion() -> None:
    completion = from_anthropic(MESSAGE, created=1_700_000_000)
    assert completion == {
        "id": "msg_01",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "The answer is 42.", "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": 17,  # OpenAI counts cached prompt tokens in prompt_tokens
            "completion_tokens": 7,
            "total_tokens": 24,
            "prompt_tokens_details": {"cached_tokens": 5},
        },
    }
    assert completion_text(completion) == "The answer is 42."
    assert usage_of(completion) == (17, 7)


def test_anything_but_a_message_is_a_provider_error() -> None:
    with pytest.raises(ProviderError, match="other than a message"):
        from_anthropic({"type": "error", "error": {"message": "x"}}, created=0)


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("something_new", "stop"),
        (None, None),
    ],
)
def test_stop_reasons_map_to_finish_reasons(stop_reason: str | None, finish: str | None) -> None:
    assert finish_reason(stop_reason) == finish


STREAM_EVENTS: list[dict[str, object]] = [
    {
        "type": "message_start",
        "message": {
            "id": "msg_02",
            "type": "message",
            "model": MODEL,
            "content": [],
            "usage": {"input_tokens": 12, "output_tokens": 1},
        },
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "ping"},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}},
    {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "thinking_delta", "thinking": "."},
    },
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo"}},
    {"type": "content_block_stop", "index": 0},
    {
        "type": "message_delta",
        "delta": {"stop_reason": "max_tokens"},
        "usage": {"output_tokens": 2},
    },
    {"type": "message_stop"},
]


def test_stream_events_become_openai_chunks() -> None:
    translator = AnthropicStream("fallback-model", created=5)
    chunks = []
    for event in STREAM_EVENTS:
        assert not translator.done
        chunk = translator.feed(event)
        if chunk is not None:
            chunks.append(chunk)
    assert translator.done
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"content": "Hel"},
        {"content": "lo"},
        {},
    ]
    finishes = [c["choices"][0]["finish_reason"] for c in chunks]
    assert finishes == [None, None, None, "length"]
    assert {c["id"] for c in chunks} == {"msg_02"}
    assert {c["model"] for c in chunks} == {MODEL}
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert [usage_of(c) for c in chunks] == [None, None, None, (12, 2)]


def test_a_stream_without_usage_still_ends_with_a_finish_reason() -> None:
    translator = AnthropicStream(MODEL, created=0)
    translator.feed({"type": "message_start", "message": {"id": "m"}})
    last = translator.feed({"type": "message_stop"})
    assert last is not None
    assert last["choices"][0]["finish_reason"] == "stop"
    assert usage_of(last) == (0, 0)


@pytest.mark.parametrize(
    ("kind", "retryable"),
    [
        ("overloaded_error", True),
        ("api_error", True),
        ("rate_limit_error", True),
        ("invalid_request_error", False),
        ("authentication_error", False),
    ],
)
def test_error_event_types_say_whether_to_try_elsewhere(kind: str, retryable: bool) -> None:
    assert (
        is_retryable_error({"type": "error", "error": {"type": kind, "message": "x"}}) is retryable
    )
