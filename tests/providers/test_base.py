"""The provider-neutral request values: validation and param merging at the seam."""

from __future__ import annotations

import dataclasses

import pytest

from turnout import providers
from turnout.errors import InvalidInput
from turnout.providers import (
    ChatChunk,
    ChatCompletion,
    ChatRequest,
    Usage,
    completion_text,
    message_text,
    upstream_params,
    usage_of,
)
from turnout.providers.base import TURNOUT_ONLY_PARAMS
from turnout.providers.sim_brain import SimParams


def test_from_openai_merges_request_fields_over_version_defaults() -> None:
    body = {
        "model": "prod-chat",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.7,
        "seed": 3,
        "stream": True,
        "tools": [{"type": "function"}],
        "stream_options": {"include_usage": True},
    }
    chat = ChatRequest.from_openai(
        body, model="chat-1", defaults={"temperature": 0.2, "latency_ms": 20}, timeout_s=5.0
    )
    assert chat.model == "chat-1"
    assert chat.params == {"temperature": 0.7, "latency_ms": 20, "seed": 3}
    assert chat.stream is True
    assert chat.body is body  # passed through untouched for OpenAI-compatible upstreams
    assert chat.timeout_s == 5.0
    assert chat.messages == ({"role": "user", "content": "hi"},)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "'messages' must be a non-empty array"),
        ({"messages": []}, "'messages' must be a non-empty array"),
        ({"messages": "hi"}, "'messages' must be a non-empty array"),
        ({"messages": ["hi"]}, r"messages\[0\] must be an object with a string 'role'"),
        ({"messages": [{"content": "hi"}]}, r"messages\[0\] must be an object"),
        ({"messages": [{"role": "user", "content": 3}]}, r"messages\[0\].content must be"),
        ({"messages": [{"role": "user", "content": "x"}], "stream": "yes"}, "'stream' must be"),
    ],
)
def test_from_openai_refuses_malformed_bodies(body: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ChatRequest.from_openai(body, model="m", defaults={})


def test_prompt_text_is_the_last_user_message_including_parts() -> None:
    parts = [
        {"type": "text", "text": "What is"},
        {"type": "image_url"},
        {"type": "text", "text": "2+2?"},
    ]
    chat = ChatRequest(
        "m",
        (
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": parts},
        ),
    )
    assert chat.prompt_text() == "What is\n2+2?"
    assert ChatRequest("m", ({"role": "system", "content": "only"},)).prompt_text() == "only"
    assert message_text({"role": "tool", "content": None}) == ""


def test_from_chunks_needs_chunks_and_defaults_usage() -> None:
    with pytest.raises(ValueError, match="at least one chunk"):
        ChatCompletion.from_chunks([])
    joined = ChatCompletion.from_chunks([ChatChunk("id", "m", "a"), ChatChunk("id", "m", " b")])
    assert joined == ChatCompletion("id", "m", "a b", "stop", Usage(), 0)


def test_public_surface_is_sorted_and_complete() -> None:
    assert providers.__all__ == sorted(providers.__all__)
    for name in providers.__all__:
        assert hasattr(providers, name)


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}}, (12, 5)),
        ({"choices": [], "usage": {"prompt_tokens": 0, "completion_tokens": 0}}, (0, 0)),
        ({"choices": [{"delta": {"content": "hi"}}]}, None),
        ({"usage": None}, None),
        ({"usage": {"prompt_tokens": 3}}, None),
        ({"usage": {"prompt_tokens": True, "completion_tokens": 1}}, None),
        ({"usage": {"prompt_tokens": "3", "completion_tokens": 1}}, None),
    ],
    ids=["completion", "zero", "no-usage", "null", "partial", "bool", "string"],
)
def test_usage_of_reads_openai_usage_or_says_unknown(
    obj: dict[str, object], expected: tuple[int, int] | None
) -> None:
    assert usage_of(obj) == expected


def test_usage_of_and_completion_text_agree_with_the_value_types() -> None:
    completion = ChatCompletion("id", "m", "hello", usage=Usage(4, 2)).to_openai()
    assert usage_of(completion) == (4, 2)
    assert completion_text(completion) == "hello"
    assert usage_of(ChatChunk("id", "m", "x").to_openai()) is None
    assert usage_of(ChatChunk("id", "m", finish_reason="stop", usage=Usage(1, 1)).to_openai()) == (
        1,
        1,
    )
    assert completion_text({"choices": []}) == ""
    assert completion_text({"choices": [{"message": {"content": None}}]}) == ""
    assert completion_text({}) == ""


def test_upstream_params_drop_only_the_sim_knobs() -> None:
    knobs = dict.fromkeys(TURNOUT_ONLY_PARAMS, 1)
    chat = ChatRequest("m", ({"role": "user", "content": "x"},), {**knobs, "seed": 3, "top_p": 0.5})
    assert upstream_params(chat) == {"seed": 3, "top_p": 0.5}
    sim_only = {field.name for field in dataclasses.fields(SimParams)} - {"seed", "max_tokens"}
    assert sim_only == TURNOUT_ONLY_PARAMS  # a new sim knob must not leak to real upstreams
