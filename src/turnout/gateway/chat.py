"""The hot path: ``POST /v1/chat/completions`` and ``GET /v1/models`` as raw ASGI.

No framework sits between uvicorn and this code: every microsecond here is paid
on every request of every application. A request is parsed once (orjson),
resolved with one dict lookup in the current routing snapshot (never the
database), forwarded through a pooled provider adapter, answered with the
``x-turnout-*`` headers, and recorded with an O(1) append to the request log and
a few cached metric observations.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from starlette.types import Receive, Scope, Send

from turnout.domain.requests import RequestRecord, estimate_cost
from turnout.errors import InvalidInput, TurnoutError, http_status_for
from turnout.gateway.metrics import GatewayMetrics
from turnout.gateway.routing import Route, Router
from turnout.providers.base import ChatRequest, usage_of
from turnout.providers.sse import SSE_DONE
from turnout.services.request_log import RequestLogWriter

__all__ = ["ChatGateway"]


_T = TypeVar("_T")

_JSON = (b"content-type", b"application/json")
_SSE = (b"content-type", b"text/event-stream")
_NO_CACHE = (b"cache-control", b"no-cache")


def _error_body(error: TurnoutError) -> bytes:
    status = http_status_for(error)
    kind = "invalid_request_error" if status < 500 else "server_error"
    if status == 404:
        kind = "invalid_request_error"
    payload: dict[str, Any] = {"message": error.message, "type": kind, "code": error.code}
    suggestions = getattr(error, "suggestions", None)
    if suggestions:
        payload["suggestions"] = list(suggestions)
    return orjson.dumps({"error": payload})


class ChatGateway:
    """Serves chat completions for every alias in the router's current snapshot."""

    def __init__(
        self,
        router: Router,
        request_log: RequestLogWriter,
        metrics: GatewayMetrics,
        max_body_bytes: int = 4 * 1024 * 1024,
        upstream_timeout_s: float = 600.0,
    ) -> None:
        self._router = router
        self._log = request_log
        self._metrics = metrics
        self._max_body = max_body_bytes
        self._timeout = upstream_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/v1/models":
            await self._models(send)
            return
        if scope["method"] != "POST":
            await self._reply_error(send, 405, b"method_not_allowed", "use POST", None)
            return
        await self._chat(scope, receive, send)

    async def _models(self, send: Send) -> None:
        try:
            names = self._router.aliases()
        except TurnoutError as exc:
            await self._reply_error(send, http_status_for(exc), None, None, exc)
            return
        body = orjson.dumps(
            {
                "object": "list",
                "data": [
                    {"id": n, "object": "model", "created": 0, "owned_by": "turnout"} for n in names
                ],
            }
        )
        await _respond(send, 200, [_JSON], body)

    async def _chat(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = "req_" + os.urandom(12).hex()
        try:
            body = await self._read_json(receive)
            model = body.get("model")
            if not isinstance(model, str) or not model:
                raise InvalidInput("'model' must be an alias or a pinned version id")
            key = _sticky_key(scope, body)
            route = self._router.route(model, key)
            request = ChatRequest.from_openai(
                body, model=route.model, defaults=route.params, timeout_s=self._timeout
            )
        except TurnoutError as exc:
            self._metrics.rejected.labels(reason=exc.code).inc()
            await self._reply_error(send, http_status_for(exc), None, None, exc, request_id)
            return
        headers = [
            (b"x-turnout-alias", route.alias_header),
            (b"x-turnout-version", route.version_header),
            (b"x-turnout-arm", route.arm_header),
            (b"x-turnout-request-id", request_id.encode()),
        ]
        # From here on the client may go away at any moment; the upstream call is
        # cancelled then, whether it is still thinking or already streaming.
        watch = asyncio.ensure_future(_wait_disconnect(receive))
        try:
            if request.stream:
                outcome = await self._stream(route, request, headers, watch, send)
            else:
                outcome = await self._complete(route, request, headers, watch, send)
        finally:
            await _cancel(watch)
        self._record(route, request_id, started, request.stream, outcome, key_hash(key))

    async def _complete(
        self,
        route: Route,
        request: ChatRequest,
        headers: list[tuple[bytes, bytes]],
        watch: asyncio.Future[None],
        send: Send,
    ) -> _Outcome:
        try:
            result = await _unless_disconnected(route.provider.complete(request), watch)
        except _ClientGone:
            return _Outcome(499, None, error_class=_DISCONNECTED)
        except TurnoutError as exc:
            status = http_status_for(exc)
            await _respond(send, status, [_JSON, *headers], _error_body(exc))
            return _Outcome(status, exc)
        result["model"] = route.version
        await _respond(send, 200, [_JSON, *headers], orjson.dumps(result))
        return _Outcome(200, None, usage=usage_of(result))

    async def _stream(
        self,
        route: Route,
        request: ChatRequest,
        headers: list[tuple[bytes, bytes]],
        watch: asyncio.Future[None],
        send: Send,
    ) -> _Outcome:
        chunks = route.provider.stream(request)
        try:
            first = await _unless_disconnected(_first(chunks), watch)
        except _ClientGone:
            await _close(chunks)
            return _Outcome(499, None, error_class=_DISCONNECTED)
        except TurnoutError as exc:
            status = http_status_for(exc)
            await _respond(send, status, [_JSON, *headers], _error_body(exc))
            return _Outcome(status, exc)
        ttft = time.perf_counter()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [_SSE, _NO_CACHE, *headers]}
        )
        try:
            outcome = await _unless_disconnected(self._pump(route, first, chunks, send), watch)
        except _ClientGone:  # the upstream call was cancelled mid-stream
            await _close(chunks)
            return _Outcome(499, None, ttft=ttft, error_class=_DISCONNECTED)
        outcome.ttft = ttft
        return outcome

    async def _pump(
        self,
        route: Route,
        first: dict[str, Any] | None,
        chunks: AsyncIterator[dict[str, Any]],
        send: Send,
    ) -> _Outcome:
        usage = None
        error: TurnoutError | None = None
        chunk = first
        try:
            while chunk is not None:
                chunk["model"] = route.version
                usage = usage_of(chunk) or usage
                await send(
                    {
                        "type": "http.response.body",
                        "body": b"data: " + orjson.dumps(chunk) + b"\n\n",
                        "more_body": True,
                    }
                )
                try:
                    chunk = await anext(chunks)
                except StopAsyncIteration:
                    chunk = None
        except TurnoutError as exc:  # cut mid-stream: tell the client in-band, then end
            error = exc
            await send(
                {
                    "type": "http.response.body",
                    "body": b"data: " + _error_body(exc) + b"\n\n",
                    "more_body": True,
                }
            )
        await send({"type": "http.response.body", "body": SSE_DONE, "more_body": False})
        return _Outcome(200 if error is None else http_status_for(error), error, usage=usage)

    async def _read_json(self, receive: Receive) -> dict[str, Any]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise InvalidInput("the client disconnected before sending the request body")
            part = message.get("body", b"")
            size += len(part)
            if size > self._max_body:
                raise InvalidInput(f"request body over the {self._max_body} byte limit")
            chunks.append(part)
            if not message.get("more_body", False):
                break
        try:
            body = orjson.loads(b"".join(chunks))
        except orjson.JSONDecodeError:
            raise InvalidInput("request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise InvalidInput("request body must be a JSON object")
        return body

    async def _reply_error(
        self,
        send: Send,
        status: int,
        code: bytes | None,
        message: str | None,
        error: TurnoutError | None = None,
        request_id: str | None = None,
    ) -> None:
        if error is None:
            body = orjson.dumps(
                {
                    "error": {
                        "message": message,
                        "type": "invalid_request_error",
                        "code": (code or b"").decode(),
                    }
                }
            )
        else:
            body = _error_body(error)
        headers = [_JSON]
        if request_id:
            headers.append((b"x-turnout-request-id", request_id.encode()))
        await _respond(send, status, headers, body)

    def _record(
        self,
        route: Route,
        request_id: str,
        started: float,
        stream: bool,
        outcome: _Outcome,
        hashed_key: str | None,
    ) -> None:
        finished = time.perf_counter()
        latency = finished - started
        series = self._metrics.series(route.alias_label, route.version, route.arm)
        series.requests.inc()
        series.latency.observe(latency)
        ttft_ms = None
        if outcome.ttft is not None:
            series.ttft.observe(outcome.ttft - started)
            ttft_ms = (outcome.ttft - started) * 1000
        if outcome.status >= 400:
            series.errors.inc()
        tokens_in, tokens_out = outcome.usage if outcome.usage else (None, None)
        self._log.submit(
            RequestRecord(
                request_id=request_id,
                at=datetime.now(UTC),
                alias=route.alias,
                version=route.version,
                arm=route.arm,
                key_hash=hashed_key,
                status=outcome.status,
                error_class=outcome.error_class or (outcome.error.code if outcome.error else None),
                latency_ms=latency * 1000,
                ttft_ms=ttft_ms,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                cost_usd=estimate_cost(tokens_in, tokens_out, route.price_in, route.price_out),
                stream=stream,
            )
        )


class _Outcome:
    """How a request ended, for the log and the metrics."""

    __slots__ = ("error", "error_class", "status", "ttft", "usage")

    def __init__(
        self,
        status: int,
        error: TurnoutError | None,
        usage: tuple[int, int] | None = None,
        ttft: float | None = None,
        error_class: str | None = None,
    ) -> None:
        self.status = status
        self.error = error
        self.usage = usage
        self.ttft = ttft
        self.error_class = error_class


def _sticky_key(scope: Scope, body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if isinstance(user, str) and user:
        return user
    for name, value in scope["headers"]:
        if name == b"x-turnout-key":
            return str(value.decode("latin-1"))
    return None


def key_hash(key: str | None) -> str | None:
    """A short, non-reversible digest of the sticky key for the request log."""
    if key is None:
        return None
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


_DISCONNECTED = "client_disconnected"


class _ClientGone(Exception):
    """The client disconnected before the answer was complete (logged as 499)."""


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _cancel(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and wait for it to finish; what it raised on the way out is moot."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def _unless_disconnected(work: Awaitable[_T], watch: asyncio.Future[None]) -> _T:
    """Await ``work``; if the client disconnects first, cancel it and raise :class:`_ClientGone`.

    Cancelling the task that runs a provider call is what releases the upstream
    request (its connection, its tokens) when nobody is waiting for the answer.
    """
    task = asyncio.ensure_future(work)
    try:
        await asyncio.wait((task, watch), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if task.done():
        return task.result()
    await _cancel(task)
    raise _ClientGone


async def _first(chunks: AsyncIterator[dict[str, Any]]) -> dict[str, Any] | None:
    """The first chunk of a stream (None if it is empty); errors before it raise here."""
    try:
        return await anext(chunks)
    except StopAsyncIteration:
        return None


async def _close(chunks: AsyncIterator[dict[str, Any]]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
