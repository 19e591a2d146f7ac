"""Bad requests are refused with an OpenAI-shaped 400 and never reach a provider.

The gateway here has a :class:`ScriptedProvider` behind every version (it counts
calls) and a small body limit. The requests name ``broken-chat``, whose version
fails every call: had one slipped through to the provider it would be a 502,
not a 400.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from tests.gateway.conftest import (
    ALIAS,
    BROKEN,
    MESSAGES,
    SMALL_BODY_LIMIT,
    ScriptedProvider,
    sample,
)

BAD_BODIES: dict[str, tuple[bytes, str]] = {
    "empty body": (b"", "not valid JSON"),
    "not JSON": (b"{'model': 'prod-chat'", "not valid JSON"),
    "JSON array": (b"[1, 2, 3]", "JSON object"),
    "JSON string": (b'"hello"', "JSON object"),
    "model missing": (orjson.dumps({"messages": MESSAGES}), "'model'"),
    "model empty": (orjson.dumps({"model": "", "messages": MESSAGES}), "'model'"),
    "model not a string": (orjson.dumps({"model": 42, "messages": MESSAGES}), "'model'"),
    "messages missing": (orjson.dumps({"model": BROKEN}), "'messages'"),
    "messages empty": (orjson.dumps({"model": BROKEN, "messages": []}), "'messages'"),
    "messages not a list": (
        orjson.dumps({"model": BROKEN, "messages": "hello"}),
        "'messages'",
    ),
    "message without role": (
        orjson.dumps({"model": BROKEN, "messages": [{"content": "hi"}]}),
        "messages[0]",
    ),
    "content not text": (
        orjson.dumps({"model": BROKEN, "messages": [{"role": "user", "content": 7}]}),
        "messages[0].content",
    ),
    "stream not a bool": (
        orjson.dumps({"model": BROKEN, "messages": MESSAGES, "stream": "yes"}),
        "'stream'",
    ),
    "body over the limit": (
        orjson.dumps(
            {"model": BROKEN, "messages": [{"role": "user", "content": "x" * SMALL_BODY_LIMIT}]}
        ),
        "limit",
    ),
}


@pytest.fixture
def http(scripted_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=scripted_url, timeout=10) as client:
        yield client


def post(http: httpx.Client, body: bytes) -> httpx.Response:
    return http.post(
        "/v1/chat/completions", content=body, headers={"content-type": "application/json"}
    )


def assert_openai_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-turnout-request-id"].startswith("req_")
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["type"] == ("invalid_request_error" if status < 500 else "server_error")
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def test_bad_bodies_are_400_and_reach_no_provider(
    http: httpx.Client, scripted: ScriptedProvider, scripted_url: str
) -> None:
    request_ids = set()
    for case, (body, says) in BAD_BODIES.items():
        response = post(http, body)
        error = assert_openai_error(response, 400, "invalid_input")
        assert says in error["message"], (case, error["message"])
        request_ids.add(response.headers["x-turnout-request-id"])

    assert scripted.calls == 0
    assert len(request_ids) == len(BAD_BODIES)
    rejected = sample(scripted_url, "turnout_rejected_requests_total", reason="invalid_input")
    assert rejected == len(BAD_BODIES)

    # The same gateway does call the provider for a good request just under the limit.
    filler = "x" * (SMALL_BODY_LIMIT - 200)
    good = {"model": ALIAS, "messages": [{"role": "user", "content": filler}]}
    body = orjson.dumps(good)
    assert len(body) < SMALL_BODY_LIMIT
    assert post(http, body).status_code == 200
    assert scripted.calls == 1


def test_refusals_after_parsing_reach_no_provider(
    http: httpx.Client, scripted: ScriptedProvider
) -> None:
    streamed = post(http, orjson.dumps({"model": BROKEN, "messages": [], "stream": True}))
    assert_openai_error(streamed, 400, "invalid_input")  # a plain 400, not an event stream
    unknown = post(http, orjson.dumps({"model": "nope", "messages": MESSAGES}))
    assert_openai_error(unknown, 404, "not_found")
    floating = post(http, orjson.dumps({"model": "sim/latest", "messages": MESSAGES}))
    assert_openai_error(floating, 400, "floating_version")
    no_provider = post(http, orjson.dumps({"model": "acme/x-2025-01-01", "messages": MESSAGES}))
    assert_openai_error(no_provider, 400, "invalid_input")
    assert scripted.calls == 0
