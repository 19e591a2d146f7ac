"""Reading requests and writing responses on raw ASGI, for the hot path.

Error bodies come from :mod:`turnout.gateway.errors`, the one translation of the
exception tree into HTTP, so the gateway and the admin API answer alike.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.types import Receive, Send

from turnout.errors import InvalidInput, TurnoutError
from turnout.gateway.errors import error_payload
from turnout.providers.sse import SSE_HEADERS

__all__ = [
    "JSON_HEADER",
    "SSE_RESPONSE_HEADERS",
    "DisconnectGuard",
    "error_bytes",
    "read_json",
    "respond",
    "sse_event",
]

JSON_HEADER = (b"content-type", b"application/json")
SSE_RESPONSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    *((name.encode(), value.encode()) for name, value in SSE_HEADERS.items()),
]
"""A stream's headers: no caching, no proxy buffering (token by token through nginx too)."""


def error_bytes(error: TurnoutError) -> bytes:
    return orjson.dumps(error_payload(error))


def sse_event(payload: bytes) -> dict[str, Any]:
    return {"type": "http.response.body", "body": b"data: " + payload + b"\n\n", "more_body": True}


async def read_json(receive: Receive, max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object; InvalidInput for anything else."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise InvalidInput("the client disconnected before sending the request body")
        part = message.get("body", b"")
        size += len(part)
        if size > max_bytes:
            raise InvalidInput(f"request body over the {max_bytes} byte limit")
        chunks.append(part)
        if not message.get("more_body", False):
            break
    try:
        body = orjson.loads(b"".join(chunks) if len(chunks) != 1 else chunks[0])
    except orjson.JSONDecodeError:
        raise InvalidInput("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("request body must be a JSON object")
    return body


async def respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class DisconnectGuard:
    """Cancels the request's own task when the client goes away.

    One small task per request watches ``receive`` for ``http.disconnect``; on
    it, :attr:`gone` is set and the request task is cancelled, which cancels the
    provider call it is awaiting (releasing the upstream connection and tokens).
    The request task tells this apart from a server shutdown by :attr:`gone`.
    Cheaper than racing the provider call in a task of its own: no extra task
    and no ``asyncio.wait`` per request.
    """

    __slots__ = ("_task", "_watch", "gone")

    def __init__(self, receive: Receive) -> None:
        self.gone = False
        self._task = asyncio.current_task()
        self._watch = asyncio.ensure_future(self._run(receive))

    async def _run(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.gone = True
        if self._task is not None:
            self._task.cancel()

    def absorb(self) -> bool:
        """In ``except CancelledError``: True (and the cancel undone) if the client left."""
        if not self.gone or self._task is None:
            return False
        self._task.uncancel()
        return True

    def close(self) -> None:
        self._watch.cancel()
