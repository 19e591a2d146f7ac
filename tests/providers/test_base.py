"""The provider-neutral request values: validation and param merging at the seam."""

from __future__ import annotations

import pytest

from turnout import providers
from turnout.errors import InvalidInput
from turnout.providers import ChatChunk, ChatCompletion, ChatRequest, Usage, message_text


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
