"""The hot path: ``POST /v1/chat/completions`` and ``GET /v1/models`` as raw ASGI.

No framework sits between uvicorn and this code: every microsecond here is paid
on every request of every application. A request is parsed once (orjson),
resolved with one dict lookup in the current routing snapshot (never the
database; an alias in a rollout adds one keyed hash of the sticky key to pick
the stable or the canary arm), forwarded through a pooled provider adapter,
answered with the ``x-turnout-*`` headers of the arm and version that served
it, and recorded with an O(1) append to the request log and a few cached
metric observations.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

from turnout.domain.requests import RequestRecord, estimate_cost, new_request_id
from turnout.domain.scorers import score_answer
from turnout.errors import InvalidInput, TurnoutError, http_status_for
from turnout.gateway.answer_text import answer_text, delta_text, text_of
from turnout.gateway.calls import adapter_failure, call_route, close_stream, open_stream
from turnout.gateway.errors import error_body
from turnout.gateway.failover import Failover
from turnout.gateway.metrics import GatewayMetrics
from turnout.gateway.routing import Route, Router
from turnout.gateway.shadow import ShadowDispatcher
from turnout.gateway.wire import (
    JSON_HEADER,
    SSE_RESPONSE_HEADERS,
    DisconnectGuard,
    error_bytes,
    read_json,
    respond,
    sse_event,
)
from turnout.providers.base import ChatRequest, usage_of
from turnout.providers.sse import SSE_DONE
from turnout.services.request_log import RequestLogWriter

__all__ = ["ChatGateway", "key_hash"]

log = logging.getLogger(__name__)

_DISCONNECTED = "client_disconnected"


class _Outcome:
    """How a request ended, for the log and the metrics."""

    __slots__ = ("error", "error_class", "scores", "status", "text", "ttft", "usage")

    def __init__(
        self,
        status: int,
        error: TurnoutError | None = None,
        usage: tuple[int, int] | None = None,
        ttft: float | None = None,
        error_class: str | None = None,
        scores: tuple[tuple[str, float], ...] = (),
        text: str | None = None,
    ) -> None:
        self.status = status
        self.text = text  # the answer's text, only when a scorer or a shadow needs it
        self.error = error
        self.usage = usage
        self.ttft = ttft
        self.error_class = error_class
        self.scores = scores


class ChatGateway:
    """Serves chat completions for every alias in the router's current snapshot."""

    def __init__(
        self,
        router: Router,
        request_log: RequestLogWriter,
        metrics: GatewayMetrics,
        max_body_bytes: int = 4 * 1024 * 1024,
        upstream_timeout_s: float = 600.0,
        shadow: ShadowDispatcher | None = None,
        failover: Failover | None = None,
    ) -> None:
        self._router = router
        self._shadow = shadow
        self._failover = failover
        self._log = request_log
        self._metrics = metrics
        self._max_body = max_body_bytes
        self._timeout = upstream_timeout_s

    def canary_weights(self) -> dict[str, int]:
        return self._router.canary_weights()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/v1/models":
            await self._models(send)
        elif scope["method"] != "POST":
            refusal = error_body("use POST for chat completions", 405, "method_not_allowed")
            await respond(send, 405, [JSON_HEADER], orjson.dumps(refusal))
        else:
            await self._chat(scope, receive, send)

    async def _models(self, send: Send) -> None:
        try:
            names = self._router.aliases()
        except TurnoutError as exc:
            await respond(send, http_status_for(exc), [JSON_HEADER], error_bytes(exc))
            return
        data = [{"id": n, "object": "model", "created": 0, "owned_by": "turnout"} for n in names]
        await respond(send, 200, [JSON_HEADER], orjson.dumps({"object": "list", "data": data}))

    async def _chat(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = new_request_id(time.time_ns(), os.urandom(6))
        try:
            body = await read_json(receive, self._max_body)
            model = body.get("model")
            if not isinstance(model, str) or not model:
                raise InvalidInput("'model' must be an alias or a pinned version id")
            key = _sticky_key(scope, body)
            route = self._router.route(model, key)
            chain = route.fallbacks
            if self._failover is not None:
                route = self._failover.pick(route)
            request = ChatRequest.from_openai(
                body, model=route.model, defaults=route.params, timeout_s=self._timeout
            )
        except TurnoutError as exc:
            self._metrics.rejected.labels(reason=exc.code).inc()
            headers = [JSON_HEADER, (b"x-turnout-request-id", request_id.encode())]
            await respond(send, http_status_for(exc), headers, error_bytes(exc))
            return
        attempt = _Attempt(request_id, started, key_hash(key), chain)
        if request.stream:
            # A stream can run for minutes: if the client goes away, cancel the
            # upstream call at once rather than pay for tokens nobody reads.
            guard = DisconnectGuard(receive)
            try:
                route, outcome = await self._stream(route, request, attempt, guard, send)
            finally:
                guard.close()
        else:
            # An unstreamed call is not watched: a watcher task per request costs
            # more CPU than the rest of the gateway's own work (measured), and the
            # answer of an abandoned call is simply not written.
            route, outcome = await self._complete(route, request, attempt, send)
        record = self._record(
            route, request_id, started, request.stream, outcome, attempt.hashed_key
        )
        if route.shadows and self._shadow is not None and route.alias is not None:
            # After the answer is sent and logged: a copy can no longer delay it.
            primary = record.as_completion(outcome.text or "")
            self._shadow.offer(
                route.alias, route.shadows, request.body, request.stream, primary, request_id
            )

    async def _complete(
        self, route: Route, request: ChatRequest, attempt: _Attempt, send: Send
    ) -> tuple[Route, _Outcome]:
        result, error = await call_route(route, request)
        if error is not None:
            retry = self._retry(route, request, attempt, error)
            if retry is not None:
                route, request = retry
                result, error = await call_route(route, request)
        if self._failover is not None:
            self._failover.record(route, error)
        headers = _headers(route, attempt.request_id)
        if error is not None or result is None:
            assert error is not None
            return route, await self._fail(send, headers, error)
        result["model"] = route.version
        headers.append(JSON_HEADER)
        await respond(send, 200, headers, orjson.dumps(result))
        if not (route.scorers or route.shadows):
            return route, _Outcome(200, usage=usage_of(result))
        text = answer_text(result)
        scores = _score(route, request, text) if route.scorers else ()
        return route, _Outcome(200, usage=usage_of(result), scores=scores, text=text)

    def _retry(
        self, failed: Route, request: ChatRequest, attempt: _Attempt, error: TurnoutError
    ) -> tuple[Route, ChatRequest] | None:
        """The fallback to try once more after ``error`` (the failed attempt is logged)."""
        if self._failover is None or not attempt.chain:
            return None
        fallback = self._failover.retry(failed, attempt.chain, error)
        if fallback is None:
            return None
        failed_outcome = _Outcome(http_status_for(error), error)
        self._record(
            failed,
            attempt.request_id,
            attempt.started,
            request.stream,
            failed_outcome,
            attempt.hashed_key,
        )
        again = ChatRequest.from_openai(
            request.body,
            model=fallback.model,
            defaults=fallback.params,
            timeout_s=request.timeout_s,
        )
        return fallback, again

    async def _fail(
        self, send: Send, headers: list[tuple[bytes, bytes]], error: TurnoutError
    ) -> _Outcome:
        status = http_status_for(error)
        headers.append(JSON_HEADER)
        await respond(send, status, headers, error_bytes(error))
        return _Outcome(status, error)

    async def _stream(
        self,
        route: Route,
        request: ChatRequest,
        attempt: _Attempt,
        guard: DisconnectGuard,
        send: Send,
    ) -> tuple[Route, _Outcome]:
        chunks: AsyncIterator[dict[str, Any]] | None = None
        ttft: float | None = None
        try:
            chunks, first, error = await open_stream(route, request)
            if error is not None:  # nothing was sent yet: a fallback may still answer
                retry = self._retry(route, request, attempt, error)
                if retry is not None:
                    route, request = retry
                    chunks, first, error = await open_stream(route, request)
            headers = _headers(route, attempt.request_id)
            if error is not None:
                if self._failover is not None:
                    self._failover.record(route, error)
                return route, await self._fail(send, headers, error)
            ttft = time.perf_counter()
            start = {"type": "http.response.start", "status": 200}
            await send({**start, "headers": [*SSE_RESPONSE_HEADERS, *headers]})
            outcome = await self._pump(route, request, first, chunks, send, ttft)
            if self._failover is not None:
                self._failover.record(route, outcome.error)
            return route, outcome
        except asyncio.CancelledError:
            if not guard.absorb():
                raise
            if chunks is not None:
                await close_stream(chunks)
            return route, _Outcome(499, ttft=ttft, error_class=_DISCONNECTED)

    async def _pump(
        self,
        route: Route,
        request: ChatRequest,
        first: dict[str, Any] | None,
        chunks: AsyncIterator[dict[str, Any]],
        send: Send,
        ttft: float,
    ) -> _Outcome:
        usage = None
        error: TurnoutError | None = None
        chunk = first
        # the text only when a scorer or a shadow comparison needs it
        parts: list[str] | None = [] if route.scorers or route.shadows else None
        try:
            while chunk is not None:
                chunk["model"] = route.version
                usage = usage_of(chunk) or usage
                if parts is not None:
                    parts.append(delta_text(chunk))
                await send(sse_event(orjson.dumps(chunk)))
                try:
                    chunk = await anext(chunks)
                except StopAsyncIteration:
                    chunk = None
        except TurnoutError as exc:  # cut mid-stream: tell the client in-band, then end
            error = exc
        except Exception as exc:
            error = adapter_failure(route, exc)
        if error is not None:
            await send(sse_event(error_bytes(error)))
        await send({"type": "http.response.body", "body": SSE_DONE, "more_body": False})
        status = 200 if error is None else http_status_for(error)
        text = "".join(parts) if parts is not None else None
        scores = _score(route, request, text) if text is not None and route.scorers else ()
        if error is not None:
            scores = ()
        return _Outcome(status, error, usage=usage, ttft=ttft, scores=scores, text=text)

    def _record(
        self,
        route: Route,
        request_id: str,
        started: float,
        stream: bool,
        outcome: _Outcome,
        hashed_key: str | None,
    ) -> RequestRecord:
        """Count and log one request; return what was logged."""
        latency = time.perf_counter() - started
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
        error_class = outcome.error_class or (outcome.error.code if outcome.error else None)
        record = RequestRecord(
            request_id=request_id,
            at=datetime.now(UTC),
            alias=route.alias,
            version=route.version,
            arm=route.arm,
            key_hash=hashed_key,
            status=outcome.status,
            error_class=error_class,
            latency_ms=latency * 1000,
            ttft_ms=ttft_ms,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=estimate_cost(tokens_in, tokens_out, route.price_in, route.price_out),
            stream=stream,
            scores=outcome.scores,
        )
        self._log.submit(record)
        return record


class _Attempt:
    """What a retry needs to log the failed attempt beside the final one."""

    __slots__ = ("chain", "hashed_key", "request_id", "started")

    def __init__(
        self, request_id: str, started: float, hashed_key: str | None, chain: tuple[Route, ...]
    ) -> None:
        self.request_id = request_id
        self.started = started
        self.hashed_key = hashed_key
        self.chain = chain


def _headers(route: Route, request_id: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-turnout-alias", route.alias_header),
        (b"x-turnout-version", route.version_header),
        (b"x-turnout-arm", route.arm_header),
        (b"x-turnout-request-id", request_id.encode()),
    ]


def _score(route: Route, request: ChatRequest, answer: str) -> tuple[tuple[str, float], ...]:
    """The online scorers' verdicts on one answer (after it was sent: off the latency)."""
    prompt = next(
        (text_of(m.get("content")) for m in reversed(request.messages) if m.get("role") == "user"),
        "",
    )
    return score_answer(route.scorers, prompt, answer)


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
