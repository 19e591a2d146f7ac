"""The OpenAI-compatible adapter against fake upstreams on real 127.0.0.1 sockets.

Each scenario is a path prefix of one fake server (``{url}/{scenario}`` is the
provider's base_url), so a test reads as "this upstream does X, the adapter does Y".
"""

from __future__ import annotations

import asyncio
import threading
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

from turnout.domain.providers import ApiKeyAuth, ProviderConfig, ProviderKind
from turnout.errors import ProviderError, ProviderTimeout
from turnout.providers import ChatRequest, usage_of
from turnout.providers.openai_compat import OpenAICompatProvider, create_openai_provider
from turnout.providers.sse import SSE_DONE, encode_sse_data

pytestmark = pytest.mark.anyio

KEY = "sk-test-0123456789abcdef-secret"
KEY_ENV = "TURNOUT_TEST_UPSTREAM_KEY"
MODEL = "gpt-4o-2024-11-20"

COMPLETION: dict[str, object] = {
    "id": "chatcmpl-fake",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": MODEL,
    "system_fingerprint": "fp_44709d6fcb",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": '{"q": "turnout"}'},
                    }
                ],
            },
            "logprobs": {"content": []},
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
}


def chunk(content: str | None = None, *, role: bool = False, finish: str | None = None) -> bytes:
    delta: dict[str, object] = {"role": "assistant"} if role else {}
    if content is not None:
        delta["content"] = content
    payload = {
        "id": "chatcmpl-s",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": MODEL,
        "system_fingerprint": "fp_1",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }
    return encode_sse_data(payload)


USAGE_CHUNK = encode_sse_data(
    {
        "id": "chatcmpl-s",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": MODEL,
        "choices": [],
        "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
    }
)
WHOLE_STREAM = (
    b": OPENROUTER PROCESSING\n\n"
    + chunk("", role=True)
    + chunk("Hel")
    + chunk("lo")
    + chunk(finish="stop")
    + USAGE_CHUNK
    + SSE_DONE
)


def json_response(payload: object, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def build_fake(state: Any, live_stream: Any, sit: Callable[..., Any]) -> Starlette:
    async def chat(request: Request) -> Response:
        scenario = request.path_params["scenario"]
        body = orjson.loads(await request.body())
        assert request.client is not None
        state.seen.append(
            {
                "scenario": scenario,
                "headers": dict(request.headers),
                "query": dict(request.query_params),
                "body": body,
                "port": request.client.port,
            }
        )
        if scenario.startswith("status-"):
            code = int(scenario.removeprefix("status-"))
            message = f"upstream says no ({code}); you sent key {KEY}"
            return json_response({"error": {"message": message, "type": "x"}}, code)
        if scenario == "hang":
            await sit(request.receive, state)
            return json_response(COMPLETION)
        return await scenarios[scenario](state, live_stream)

    async def ok(state: Any, live_stream: Any) -> Response:
        return json_response(COMPLETION)

    async def stream(state: Any, live_stream: Any) -> Response:
        async def pieces() -> AsyncIterator[bytes]:
            raw = WHOLE_STREAM.replace(b"\n", b"\r\n")
            for start in range(0, len(raw), 7):  # events cut across writes, CRLF endings
                yield raw[start : start + 7]
            await asyncio.sleep(0.05)  # the end of the body comes a little after [DONE]

        return live_stream(pieces(), state)

    async def slow(state: Any, live_stream: Any, first: bool = True) -> Response:
        async def pieces() -> AsyncIterator[bytes]:
            if first:
                yield chunk("", role=True) + chunk("first")
            await state.release.until()
            state.seen.append({"released": True})
            yield chunk(" rest") + chunk(finish="stop") + SSE_DONE

        return live_stream(pieces(), state)

    async def stall(state: Any, live_stream: Any) -> Response:
        return await slow(state, live_stream, first=False)

    async def cut(state: Any, live_stream: Any) -> Response:
        async def pieces() -> AsyncIterator[bytes]:
            yield chunk("", role=True)
            yield chunk("half an ans")

        return live_stream(pieces(), state)

    async def error_event(state: Any, live_stream: Any) -> Response:
        async def pieces() -> AsyncIterator[bytes]:
            yield chunk("", role=True)
            yield encode_sse_data({"error": {"message": "model overloaded mid-answer"}})

        return live_stream(pieces(), state)

    async def endless_line(state: Any, live_stream: Any) -> Response:
        async def pieces() -> AsyncIterator[bytes]:
            yield chunk("", role=True)
            for _ in range(9):  # 9 MiB without a newline: a broken upstream, not a long answer
                yield b"x" * (1024 * 1024)

        return live_stream(pieces(), state)

    async def text_error(state: Any, live_stream: Any) -> Response:
        return Response("<html>502 Bad Gateway (nginx)</html>", 502, media_type="text/html")

    async def not_json(state: Any, live_stream: Any) -> Response:
        return Response("<html>hello</html>", 200, media_type="text/html")

    scenarios = {
        "ok": ok,
        "azure": ok,
        "stream": stream,
        "slow": slow,
        "stall": stall,
        "cut": cut,
        "error-event": error_event,
        "endless-line": endless_line,
        "text-error": text_error,
        "not-json": not_json,
    }
    return Starlette(routes=[Route("/{scenario}/chat/completions", chat, methods=["POST"])])


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


@pytest.fixture
def fake_url(serve_asgi: Any, fake_state: Any, live_stream: Any, sit_until_disconnect: Any) -> str:
    return str(serve_asgi(build_fake(fake_state, live_stream, sit_until_disconnect)))


@asynccontextmanager
async def adapter(base_url: str, **options: Any) -> AsyncIterator[OpenAICompatProvider]:
    config = ProviderConfig("fakeai", ProviderKind.OPENAI, base_url, KEY_ENV)
    provider = OpenAICompatProvider(config, **options)
    try:
        yield provider
    finally:
        await provider.aclose()


def request(stream: bool = False, timeout_s: float | None = 10.0, **fields: object) -> ChatRequest:
    body = {
        "model": "prod-chat",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": stream,
        **fields,
    }
    defaults = {"temperature": 0.2, "seed": 1, "latency_ms": 50, "error_rate": 0.5}
    return ChatRequest.from_openai(body, model=MODEL, defaults=defaults, timeout_s=timeout_s)


def assert_no_secret(error: BaseException) -> None:
    assert KEY not in str(error)
    assert KEY not in repr(error)
    assert KEY not in repr(error.args)


async def test_complete_passes_the_upstream_json_through_untouched(
    fake_url: str, fake_state: Any
) -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]
    async with adapter(f"{fake_url}/ok") as provider:
        result = await provider.complete(request(temperature=0.7, tools=tools, user="u1"))
    assert result == COMPLETION  # tool_calls, logprobs, system_fingerprint, refusal survive
    assert usage_of(result) == (9, 3)
    seen = fake_state.seen[0]
    assert seen["body"] == {
        "model": MODEL,  # the pinned id, not the alias the client sent
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.7,  # the client's value over the version default
        "seed": 1,  # a version default the client did not set
        "tools": tools,
        "user": "u1",
    }  # sim knobs (latency_ms, error_rate) never leave the process; no stream fields
    headers = seen["headers"]
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["content-type"] == "application/json"
    assert "user-agent" not in headers


async def test_stream_yields_each_chunk_with_usage_and_asks_for_usage(
    fake_url: str, fake_state: Any
) -> None:
    async with adapter(f"{fake_url}/stream") as provider:
        chunks = [c async for c in provider.stream(request(stream=True))]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Hello"
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[0]["system_fingerprint"] == "fp_1"
    assert chunks[3]["choices"][0]["finish_reason"] == "stop"
    assert [usage_of(c) for c in chunks] == [None, None, None, None, (9, 2)]
    body = fake_state.seen[0]["body"]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


async def test_a_client_stream_options_is_respected(fake_url: str, fake_state: Any) -> None:
    async with adapter(f"{fake_url}/stream") as provider:
        options = {"include_usage": False}
        _ = [c async for c in provider.stream(request(stream=True, stream_options=options))]
    assert fake_state.seen[0]["body"]["stream_options"] == {"include_usage": False}


async def test_first_chunk_arrives_before_the_upstream_sends_the_rest(
    fake_url: str, fake_state: Any
) -> None:
    async with adapter(f"{fake_url}/slow") as provider:
        stream = provider.stream(request(stream=True))
        first = await asyncio.wait_for(anext(stream), 5)  # the fake is still holding the rest
        assert first["choices"][0]["delta"]["role"] == "assistant"
        second = await asyncio.wait_for(anext(stream), 5)
        assert second["choices"][0]["delta"]["content"] == "first"
        assert {"released": True} not in fake_state.seen
        fake_state.release.set()

        async def rest() -> list[dict[str, object]]:  # as the gateway does: another task
            return [c async for c in stream]

        tail = await asyncio.wait_for(asyncio.ensure_future(rest()), 5)
    assert [c["choices"][0]["finish_reason"] for c in tail] == [None, "stop"]


async def test_connections_are_pooled_and_reused_after_a_full_stream(
    fake_url: str, fake_state: Any
) -> None:
    async with adapter(f"{fake_url}/stream") as provider:
        _ = [c async for c in provider.stream(request(stream=True))]
        _ = [c async for c in provider.stream(request(stream=True))]
    ports = {seen["port"] for seen in fake_state.seen}
    assert len(ports) == 1  # read on past [DONE] to the end of the body: the connection went back


@pytest.mark.parametrize(
    ("status", "retryable", "error_status"),
    [
        (500, True, 502),
        (503, True, 502),
        (529, True, 502),
        (429, True, 429),
        (408, True, 408),
        (400, False, 400),
        (401, False, 401),
        (404, False, 404),
    ],
)
async def test_upstream_statuses_map_to_provider_errors(
    fake_url: str, status: int, retryable: bool, error_status: int
) -> None:
    async with adapter(f"{fake_url}/status-{status}") as provider:
        with pytest.raises(ProviderError) as caught:
            await provider.complete(request())
        stream = provider.stream(request(stream=True))
        with pytest.raises(ProviderError) as caught_stream:
            await anext(stream)  # before any chunk: the gateway may still fall back
    for error in (caught.value, caught_stream.value):
        assert type(error) is ProviderError
        assert error.retryable is retryable
        assert error.status == error_status
        assert f"fakeai returned HTTP {status}: upstream says no ({status})" in error.message
        assert "***" in error.message  # the upstream echoed the key; it was scrubbed
        assert_no_secret(error)


async def test_a_non_json_error_page_is_passed_on_as_text(fake_url: str) -> None:
    async with adapter(f"{fake_url}/text-error") as provider:
        with pytest.raises(ProviderError, match=r"HTTP 502: <html>502 Bad Gateway") as caught:
            await provider.complete(request())
    assert caught.value.retryable


async def test_a_200_that_is_not_json_or_not_a_stream_is_an_error(fake_url: str) -> None:
    async with adapter(f"{fake_url}/not-json") as provider:
        with pytest.raises(ProviderError, match="not JSON"):
            await provider.complete(request())
    async with adapter(f"{fake_url}/ok") as provider:
        with pytest.raises(ProviderError, match="instead of text/event-stream"):
            await anext(provider.stream(request(stream=True)))


async def test_a_slow_upstream_times_out_quickly_and_is_disconnected(
    fake_url: str, fake_state: Any
) -> None:
    async with adapter(f"{fake_url}/hang") as provider:
        started = time.perf_counter()
        with pytest.raises(ProviderTimeout, match=r"fakeai did not answer within 0\.2s") as caught:
            await provider.complete(request(timeout_s=0.2))
        assert time.perf_counter() - started < 1.5
        assert caught.value.retryable
        assert caught.value.status == 504
        assert await fake_state.gone.until(5)


async def test_timeout_bounds_the_first_event_of_a_stream(fake_url: str) -> None:
    async with adapter(f"{fake_url}/stall") as provider:  # headers at once, then silence
        started = time.perf_counter()
        with pytest.raises(ProviderTimeout, match=r"sent no event within 0\.2s"):
            await anext(provider.stream(request(stream=True, timeout_s=0.2)))
        assert time.perf_counter() - started < 1.5


async def test_read_timeout_bounds_the_silence_between_chunks(fake_url: str) -> None:
    async with adapter(f"{fake_url}/slow", read_timeout=0.2) as provider:
        stream = provider.stream(request(stream=True))
        assert len([await anext(stream), await anext(stream)]) == 2
        with pytest.raises(ProviderTimeout, match="stopped sending data"):
            await anext(stream)


async def test_a_stream_cut_without_done_fails_after_its_chunks(fake_url: str) -> None:
    async with adapter(f"{fake_url}/cut") as provider:
        stream = provider.stream(request(stream=True))
        received = [await anext(stream), await anext(stream)]
        with pytest.raises(ProviderError, match=r"ended its stream without \[DONE\]"):
            await anext(stream)
    assert received[1]["choices"][0]["delta"]["content"] == "half an ans"


async def test_an_error_event_mid_stream_is_raised_from_the_iterator(fake_url: str) -> None:
    async with adapter(f"{fake_url}/error-event") as provider:
        stream = provider.stream(request(stream=True))
        await anext(stream)
        with pytest.raises(ProviderError, match="model overloaded mid-answer"):
            await anext(stream)


async def test_an_endless_line_is_a_provider_error_not_a_memory_leak(fake_url: str) -> None:
    async with adapter(f"{fake_url}/endless-line") as provider:
        stream = provider.stream(request(stream=True))
        await anext(stream)
        with pytest.raises(ProviderError, match="malformed event stream"):
            await anext(stream)


async def test_cancelling_a_complete_closes_the_upstream_connection(
    fake_url: str, fake_state: Any
) -> None:
    async with adapter(f"{fake_url}/hang") as provider:
        task = asyncio.ensure_future(provider.complete(request()))
        assert await fake_state.started.until(5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await fake_state.gone.until(5)  # the upstream stops generating
    async with adapter(f"{fake_url}/ok") as provider:  # nothing poisoned
        assert (await provider.complete(request()))["id"] == "chatcmpl-fake"


async def test_cancelling_a_stream_consumer_closes_the_upstream_connection(
    fake_url: str, fake_state: Any
) -> None:
    async with adapter(f"{fake_url}/slow") as provider:
        stream = provider.stream(request(stream=True))
        await anext(stream)
        await anext(stream)
        task = asyncio.ensure_future(anext(stream))  # waits for the held-back rest
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await fake_state.gone.until(5)
        await stream.aclose()  # type: ignore[attr-defined]


async def test_a_missing_key_names_the_variable_and_sends_nothing(
    fake_url: str, fake_state: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    async with adapter(f"{fake_url}/ok") as provider:
        with pytest.raises(ProviderError, match=f"environment variable {KEY_ENV} is not set") as e:
            await provider.complete(request())
        with pytest.raises(ProviderError, match=KEY_ENV):
            await anext(provider.stream(request(stream=True)))
    assert e.value.retryable is False
    assert e.value.status == 401
    assert fake_state.seen == []


async def test_azure_style_auth_header_and_query(fake_url: str, fake_state: Any) -> None:
    options = {"auth_header": "api-key", "query": {"api-version": "2024-10-21"}}
    async with adapter(f"{fake_url}/azure/", **options) as provider:
        await provider.complete(request())
    seen = fake_state.seen[0]
    assert seen["headers"]["api-key"] == KEY
    assert "authorization" not in seen["headers"]
    assert seen["query"] == {"api-version": "2024-10-21"}


async def test_the_registry_factory_honours_a_configured_azure_endpoint(
    fake_url: str, fake_state: Any
) -> None:
    def azure(base_url: str) -> ProviderConfig:
        return ProviderConfig(
            "azure", ProviderKind.OPENAI, base_url, KEY_ENV, ApiKeyAuth.API_KEY, "2024-10-21"
        )

    provider = create_openai_provider(azure(f"{fake_url}/azure"))
    try:
        await provider.complete(request())
    finally:
        await provider.aclose()
    streaming = create_openai_provider(azure(f"{fake_url}/stream"))
    try:
        chunks = [chunk async for chunk in streaming.stream(request(stream=True))]
    finally:
        await streaming.aclose()
    assert chunks
    for seen in fake_state.seen:
        assert seen["headers"]["api-key"] == KEY
        assert "authorization" not in seen["headers"]
        assert seen["query"] == {"api-version": "2024-10-21"}


async def test_the_registry_factory_defaults_to_bearer_auth_and_no_query(
    fake_url: str, fake_state: Any
) -> None:
    config = ProviderConfig("fakeai", ProviderKind.OPENAI, f"{fake_url}/ok", KEY_ENV)
    provider = create_openai_provider(config)
    try:
        await provider.complete(request())
    finally:
        await provider.aclose()
    (seen,) = fake_state.seen
    assert seen["headers"]["authorization"] == f"Bearer {KEY}"
    assert "api-key" not in seen["headers"]
    assert seen["query"] == {}


async def test_the_key_is_in_no_repr(fake_url: str) -> None:
    async with adapter(f"{fake_url}/ok") as provider:
        await provider.complete(request())
        assert repr(provider) == f"OpenAICompatProvider(name='fakeai', base_url='{fake_url}/ok')"
        assert KEY not in repr(vars(provider))


async def test_connection_refused_is_retryable(refused_url: str) -> None:
    async with adapter(refused_url) as provider:
        with pytest.raises(ProviderError, match="fakeai connection failed") as caught:
            await provider.complete(request())
        with pytest.raises(ProviderError, match="fakeai connection failed"):
            await anext(provider.stream(request(stream=True)))
    assert type(caught.value) is ProviderError
    assert caught.value.retryable
    assert caught.value.status == 502
    assert_no_secret(caught.value)


@pytest.mark.parametrize(
    "reply",
    [
        b"",
        b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"id',
    ],
    ids=["before-any-byte", "mid-body"],
)
async def test_a_reset_connection_is_a_retryable_provider_error(
    serve_raw: Callable[..., str], reply: bytes
) -> None:
    async with adapter(serve_raw(reply)) as provider:
        with pytest.raises(ProviderError) as caught:
            await provider.complete(request())
        with pytest.raises(ProviderError) as caught_stream:
            await anext(provider.stream(request(stream=True)))
    for error in (caught.value, caught_stream.value):
        assert type(error) is ProviderError  # not a timeout: it failed fast
        assert error.retryable
        assert error.status == 502
        assert_no_secret(error)


async def test_a_stream_reset_mid_way_fails_after_its_first_chunk(
    serve_raw: Callable[..., str],
) -> None:
    event = chunk("", role=True)
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    reset_now = threading.Event()
    url = serve_raw(head + f"{len(event):x}\r\n".encode() + event + b"\r\n", wait=reset_now)
    async with adapter(url) as provider:
        stream = provider.stream(request(stream=True))
        first = await anext(stream)
        reset_now.set()
        with pytest.raises(ProviderError) as caught:
            await anext(stream)
    assert first["choices"][0]["delta"]["role"] == "assistant"
    assert type(caught.value) is ProviderError
    assert caught.value.retryable
