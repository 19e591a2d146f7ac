"""The Anthropic adapter against a fake Messages API on a real 127.0.0.1 socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from turnout.domain.providers import ProviderConfig, ProviderKind
from turnout.errors import InvalidInput, ProviderError, ProviderTimeout
from turnout.providers import ChatRequest, completion_text, usage_of
from turnout.providers.anthropic import AnthropicProvider

pytestmark = pytest.mark.anyio

KEY = "sk-ant-test-0123456789-secret"
KEY_ENV = "TURNOUT_TEST_ANTHROPIC_KEY"
MODEL = "claude-sonnet-4-5-20250929"

MESSAGE = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": MODEL,
    "content": [{"type": "text", "text": "The answer is 42."}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 14, "output_tokens": 6},
}


def event(payload: dict[str, object]) -> bytes:
    """Anthropic's framing: a named event, then its JSON (which repeats the type)."""
    return f"event: {payload['type']}\n".encode() + b"data: " + orjson.dumps(payload) + b"\n\n"


def text_delta(text: str) -> bytes:
    return event(
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}
    )


START = event(
    {
        "type": "message_start",
        "message": {
            "id": "msg_02",
            "type": "message",
            "model": MODEL,
            "content": [],
            "usage": {"input_tokens": 14, "output_tokens": 1},
        },
    }
) + event(
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
)
END = (
    event({"type": "content_block_stop", "index": 0})
    + event(
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 6},
        }
    )
    + event({"type": "message_stop"})
)
OVERLOADED = event(
    {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
)


def build_fake(state: Any, live_stream: Any, sit: Callable[..., Any]) -> Starlette:
    async def messages(request: Request) -> Response:
        scenario = request.path_params["scenario"]
        state.seen.append(
            {"headers": dict(request.headers), "body": orjson.loads(await request.body())}
        )
        if scenario.startswith("status-"):
            code = int(scenario.removeprefix("status-"))
            kind = {529: "overloaded_error", 429: "rate_limit_error"}.get(
                code, "invalid_request_error"
            )
            error = {"type": kind, "message": f"messages: problem {code}"}
            return Response(
                orjson.dumps({"type": "error", "error": error}), code, media_type="application/json"
            )
        if scenario == "ok":
            return Response(orjson.dumps(MESSAGE), media_type="application/json")
        if scenario == "hang":
            await sit(request.receive, state)
            return Response(orjson.dumps(MESSAGE), media_type="application/json")
        parts = {
            "stream": [
                START,
                b": keep-alive\n\n",
                event({"type": "ping"}),
                text_delta("The answer"),
                text_delta(" is 42."),
                END,
            ],
            "overloaded-first": [OVERLOADED],
            "overloaded-mid": [START, text_delta("The"), OVERLOADED],
            "cut": [START, text_delta("The")],
        }[scenario]

        async def pieces() -> AsyncIterator[bytes]:
            for part in parts:
                yield part
                await asyncio.sleep(0)

        return live_stream(pieces(), state)

    return Starlette(routes=[Route("/{scenario}/v1/messages", messages, methods=["POST"])])


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


@pytest.fixture
def fake_url(serve_asgi: Any, fake_state: Any, live_stream: Any, sit_until_disconnect: Any) -> str:
    return str(serve_asgi(build_fake(fake_state, live_stream, sit_until_disconnect)))


@asynccontextmanager
async def adapter(base_url: str) -> AsyncIterator[AnthropicProvider]:
    config = ProviderConfig("claude", ProviderKind.ANTHROPIC, base_url, KEY_ENV)
    provider = AnthropicProvider(config, clock=lambda: 1_700_000_000.0)
    try:
        yield provider
    finally:
        await provider.aclose()


def request(stream: bool = False, timeout_s: float = 10.0, **fields: object) -> ChatRequest:
    body = {
        "model": "prod-chat",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q?"}],
        "stream": stream,
        **fields,
    }
    return ChatRequest.from_openai(
        body, model=MODEL, defaults={"temperature": 0.3}, timeout_s=timeout_s
    )


async def test_complete_sends_a_messages_call_and_answers_in_openai_shape(
    fake_url: str, fake_state: Any
) -> None:
    async with adapter(f"{fake_url}/ok") as provider:
        completion = await provider.complete(request(max_tokens=64))
    assert completion["object"] == "chat.completion"
    assert completion["created"] == 1_700_000_000
    assert completion_text(completion) == "The answer is 42."
    assert completion["choices"][0]["finish_reason"] == "stop"
    assert usage_of(completion) == (14, 6)
    seen = fake_state.seen[0]
    assert seen["headers"]["x-api-key"] == KEY
    assert seen["headers"]["anthropic-version"] == "2023-06-01"
    assert "authorization" not in seen["headers"]
    assert seen["body"] == {
        "model": MODEL,
        "max_tokens": 64,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Q?"}],
        "temperature": 0.3,
    }


async def test_stream_translates_events_into_chunks(fake_url: str, fake_state: Any) -> None:
    async with adapter(f"{fake_url}/stream") as provider:
        chunks = [chunk async for chunk in provider.stream(request(stream=True))]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"content": "The answer"},
        {"content": " is 42."},
        {},
    ]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert usage_of(chunks[-1]) == (14, 6)
    assert fake_state.seen[0]["body"]["stream"] is True


async def test_a_v1_base_url_is_not_doubled(fake_url: str, fake_state: Any) -> None:
    async with adapter(f"{fake_url}/ok/v1/") as provider:
        assert completion_text(await provider.complete(request())) == "The answer is 42."


@pytest.mark.parametrize(
    ("status", "retryable", "error_status"),
    [(529, True, 502), (500, True, 502), (429, True, 429), (400, False, 400), (401, False, 401)],
)
async def test_error_statuses_map_like_every_adapter(
    fake_url: str, status: int, retryable: bool, error_status: int
) -> None:
    async with adapter(f"{fake_url}/status-{status}") as provider:
        with pytest.raises(ProviderError) as caught:
            await provider.complete(request())
        with pytest.raises(ProviderError) as caught_stream:
            await anext(provider.stream(request(stream=True)))
    for error in (caught.value, caught_stream.value):
        assert error.retryable is retryable
        assert error.status == error_status
        assert f"claude returned HTTP {status}: messages: problem {status}" in error.message
        assert KEY not in repr(error)


async def test_an_overloaded_event_before_any_text_fails_the_first_anext(fake_url: str) -> None:
    async with adapter(f"{fake_url}/overloaded-first") as provider:
        with pytest.raises(ProviderError, match="Overloaded") as caught:
            await anext(provider.stream(request(stream=True)))
    assert caught.value.retryable


async def test_an_error_event_or_a_cut_mid_stream_raises_from_the_iterator(fake_url: str) -> None:
    for scenario, message in [("overloaded-mid", "Overloaded"), ("cut", "before message_stop")]:
        async with adapter(f"{fake_url}/{scenario}") as provider:
            stream = provider.stream(request(stream=True))
            assert (await anext(stream))["choices"][0]["delta"]["role"] == "assistant"
            assert (await anext(stream))["choices"][0]["delta"] == {"content": "The"}
            with pytest.raises(ProviderError, match=message):
                await anext(stream)


async def test_timeout_and_cancellation_release_the_upstream(
    fake_url: str, fake_state: Any
) -> None:
    async with adapter(f"{fake_url}/hang") as provider:
        started = time.perf_counter()
        with pytest.raises(ProviderTimeout):
            await provider.complete(request(timeout_s=0.2))
        assert time.perf_counter() - started < 1.5
        assert await fake_state.gone.until(5)
        fake_state.gone.clear()
        task = asyncio.ensure_future(provider.complete(request()))
        assert await fake_state.started.until(5)
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await fake_state.gone.until(5)


async def test_untranslatable_requests_and_missing_keys_fail_before_any_call(
    fake_url: str, fake_state: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with adapter(f"{fake_url}/ok") as provider:
        with pytest.raises(InvalidInput, match="'tools' is not supported"):
            await provider.complete(request(tools=[{"type": "function"}]))
        with pytest.raises(InvalidInput, match="'tools' is not supported"):
            await anext(provider.stream(request(stream=True, tools=[{"type": "function"}])))
        monkeypatch.delenv(KEY_ENV)
        with pytest.raises(ProviderError, match=f"variable {KEY_ENV} is not set") as caught:
            await provider.complete(request())
        assert repr(provider) == f"AnthropicProvider(name='claude', base_url='{fake_url}/ok')"
    assert caught.value.retryable is False
    assert fake_state.seen == []


async def test_a_reset_connection_is_retryable(serve_raw: Callable[..., str]) -> None:
    async with adapter(serve_raw(b"")) as provider:
        with pytest.raises(ProviderError) as caught:
            await provider.complete(request())
    assert type(caught.value) is ProviderError
    assert caught.value.retryable
