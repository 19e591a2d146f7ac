"""The sim as a stand-alone OpenAI-compatible server (``turnout sim serve``).

It lets the gateway's real ``openai`` adapter, a load test or any OpenAI client
talk to simulated models over HTTP, with the same brain as the in-process
``sim`` provider. Any model name is served: its params are ``default_params``
with the per-model params of ``models`` over them, and the request's own fields
(``seed``, ``max_tokens``, even ``quality``) over both.

Built on bare Starlette and orjson because it also stands in for a fast upstream
in benchmarks; nothing here is created at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from turnout.domain.versions import ParamValue
from turnout.errors import InvalidInput, ProviderError, TurnoutError
from turnout.providers.base import ChatRequest
from turnout.providers.sim import SimProvider
from turnout.providers.sim_brain import SimParams
from turnout.providers.sse import SSE_DONE, SSE_HEADERS, encode_sse_data

__all__ = [
    "DEFAULT_SIM_HOST",
    "DEFAULT_SIM_PORT",
    "build_sim_app",
    "serve_sim",
    "sim_server_config",
]

DEFAULT_SIM_HOST = "127.0.0.1"
"""Loopback only unless asked: the sim has no authentication."""

DEFAULT_SIM_PORT = 8601
"""Next to the gateway's 8600."""


def _json(payload: Mapping[str, object], status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def _error_body(message: str, kind: str, code: str) -> dict[str, object]:
    return {"error": {"message": message, "type": kind, "code": code}}


def _error(error: TurnoutError) -> Response:
    """OpenAI's error shape: 400 invalid_request_error, upstream failures as server_error."""
    if isinstance(error, ProviderError):
        return _json(_error_body(error.message, "server_error", error.code), error.status)
    return _json(_error_body(error.message, "invalid_request_error", error.code), 400)


async def _http_error(request: Request, exc: Exception) -> Response:
    """404/405 from routing, in the OpenAI shape clients know how to read."""
    assert isinstance(exc, HTTPException)
    return _json(
        _error_body(str(exc.detail), "invalid_request_error", "not_found"), exc.status_code
    )


async def _read_body(request: Request) -> Mapping[str, object]:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidInput("request body must be a JSON object")
    return body


async def _sse(
    first: Mapping[str, object], rest: AsyncIterator[dict[str, object]]
) -> AsyncIterator[bytes]:
    """Encode a primed stream; a failure mid-stream becomes an OpenAI ``error`` event."""
    yield encode_sse_data(first)
    try:
        async for chunk in rest:
            yield encode_sse_data(chunk)
    except TurnoutError as exc:
        yield encode_sse_data(_error_body(exc.message, "server_error", exc.code))
        return
    yield SSE_DONE


def build_sim_app(
    models: Mapping[str, Mapping[str, ParamValue]],
    default_params: Mapping[str, ParamValue],
    seed: int,
) -> Starlette:
    """An ASGI app serving ``/v1/chat/completions`` and ``/v1/models`` from the sim.

    Params are validated here, so a bad ``--param`` fails at start-up rather than
    on the first request.
    """
    for params in (default_params, *models.values()):
        SimParams.parse(params)
    provider = SimProvider(seed=seed)
    known = {name: {**default_params, **params} for name, params in models.items()}

    async def chat_completions(request: Request) -> Response:
        try:
            body = await _read_body(request)
            model = body.get("model")
            if not isinstance(model, str) or not model:
                raise InvalidInput("'model' must be a non-empty string")
            chat = ChatRequest.from_openai(
                body, model=model, defaults=known.get(model, default_params)
            )
            if not chat.stream:
                return _json(await provider.complete(chat))
            chunks = provider.stream(chat)
            first = await anext(chunks)  # fail with a status, before any header is sent
        except TurnoutError as exc:
            return _error(exc)
        return StreamingResponse(
            _sse(first, chunks), media_type="text/event-stream", headers=SSE_HEADERS
        )

    async def list_models(request: Request) -> Response:
        data = [
            {"id": name, "object": "model", "created": 0, "owned_by": "turnout-sim"}
            for name in sorted(models)
        ]
        return _json({"object": "list", "data": data})

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await provider.aclose()

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/models", list_models, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )


def sim_server_config(app: Starlette, host: str, port: int) -> uvicorn.Config:
    """uvicorn settings for the sim: uvloop + httptools, quiet logs, no websockets."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        ws="none",
        lifespan="on",
        log_level="warning",
    )


def serve_sim(host: str, port: int, app: Starlette) -> None:
    """Run the sim server in the foreground until interrupted (Ctrl+C / SIGTERM)."""
    uvicorn.Server(sim_server_config(app, host, port)).run()
