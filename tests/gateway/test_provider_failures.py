"""When the provider fails: a 502 before any byte was sent, an in-band error after.

``broken-chat`` is a sim version with ``error_rate: 1.0`` on the real gateway:
the sim fails every call as an upstream 500 would, for a whole answer and for a
stream alike (before its first chunk). A stream that breaks *after* chunks were
sent cannot change its status any more; the :class:`ScriptedProvider` cuts one
after two chunks, and the client must see both, an ``error`` event, and the
``[DONE]`` that ends every OpenAI stream.
"""

from __future__ import annotations

from typing import Any

import httpx
import openai
import orjson
import pytest
from openai.types.chat import ChatCompletionChunk
from tests.gateway.conftest import (
    BROKEN,
    BROKEN_V,
    CUT,
    CUT_V,
    MESSAGES,
    ScriptedProvider,
    wait_for_log,
)


def assert_routed_502(error: openai.APIStatusError) -> None:
    assert error.status_code == 502
    assert error.code == "provider_error"
    assert isinstance(error.body, dict)
    assert error.body["type"] == "server_error"
    headers = error.response.headers
    assert headers["content-type"] == "application/json"
    assert headers["x-turnout-alias"] == BROKEN
    assert headers["x-turnout-version"] == BROKEN_V
    assert headers["x-turnout-arm"] == "stable"
    assert headers["x-turnout-request-id"].startswith("req_")


def test_a_failed_completion_is_an_openai_shaped_502(oai: openai.OpenAI, db_url: str) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        oai.chat.completions.create(model=BROKEN, messages=MESSAGES)
    assert_routed_502(caught.value)

    with pytest.raises(openai.InternalServerError) as streamed:
        oai.chat.completions.create(model=BROKEN, messages=MESSAGES, stream=True)
    assert_routed_502(streamed.value)

    ids = {
        caught.value.response.headers["x-turnout-request-id"]: False,
        streamed.value.response.headers["x-turnout-request-id"]: True,
    }
    rows = wait_for_log(db_url, set(ids))
    for request_id, stream in ids.items():
        row = rows[request_id]
        assert (row["alias"], row["version"], row["arm"]) == (BROKEN, BROKEN_V, "stable")
        assert row["status"] == 502
        assert row["error_class"] == "provider_error"
        assert row["stream"] is stream
        assert row["ttft_ms"] is None  # no token ever reached the client
        assert row["tokens_in"] is None


def sse_events(response: httpx.Response) -> list[bytes]:
    """The ``data:`` payloads of an SSE response, in order."""
    return [
        line.removeprefix("data: ").encode()
        for line in response.iter_lines()
        if line.startswith("data: ")
    ]


def test_a_stream_cut_midway_ends_with_an_error_event_and_done(
    scripted_url: str, scripted: ScriptedProvider, db_url: str
) -> None:
    body = {"model": CUT, "messages": MESSAGES, "stream": True}
    with (
        httpx.Client(base_url=scripted_url, timeout=10) as http,
        http.stream("POST", "/v1/chat/completions", json=body) as response,
    ):
        assert response.status_code == 200  # sent before the provider failed
        assert response.headers["x-turnout-version"] == CUT_V
        request_id = response.headers["x-turnout-request-id"]
        events = sse_events(response)

    assert len(events) == 4, events
    first, second = (orjson.loads(event) for event in events[:2])
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": "Hello"}
    assert second["choices"][0]["delta"] == {"content": " world"}
    assert first["model"] == second["model"] == CUT_V
    error: dict[str, Any] = orjson.loads(events[2])["error"]
    assert error["code"] == "provider_error"
    assert error["type"] == "server_error"
    assert "mid-stream" in error["message"]
    assert events[3] == b"[DONE]"
    assert scripted.calls == 1

    row = wait_for_log(db_url, {request_id})[request_id]
    assert row["status"] == 502
    assert row["error_class"] == "provider_error"
    assert row["stream"] is True
    assert row["ttft_ms"] is not None

    # The OpenAI SDK hands over both chunks, then raises the error event.
    received: list[str] = []

    def read(stream: openai.Stream[ChatCompletionChunk]) -> None:
        received.extend(chunk.choices[0].delta.content or "" for chunk in stream)

    with openai.OpenAI(base_url=f"{scripted_url}/v1", api_key="x", max_retries=0) as oai:
        stream = oai.chat.completions.create(model=CUT, messages=MESSAGES, stream=True)
        with stream, pytest.raises(openai.APIError, match="mid-stream") as caught:
            read(stream)
    assert received == ["Hello", " world"]
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "provider_error"
    assert scripted.calls == 2
