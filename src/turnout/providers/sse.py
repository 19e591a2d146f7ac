"""Server-sent events, both ways: encoding OpenAI's stream and decoding any upstream's.

Kept beside the adapters because both sides of a stream need it: the sim server
writes ``data: {json}\\n\\n`` ... ``data: [DONE]``, and the OpenAI-compatible and
Anthropic adapters read their upstream's events.

Decoding is incremental (:class:`SSEDecoder` is fed whatever the socket returned)
because a model stream must reach the client token by token: an event may be
split across TCP reads, several may arrive in one, and lines may end in ``\\n``,
``\\r\\n`` or ``\\r``. It follows the WHATWG event-stream rules for the fields
turnout needs (``event`` and ``data``; comments and ``id``/``retry`` ignored).
Pure bytes in, events out: no I/O here, so every edge case is a unit test.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass

import orjson

__all__ = [
    "SSE_DONE",
    "SSE_HEADERS",
    "SSEDecoder",
    "SSEEvent",
    "aiter_sse",
    "encode_sse_data",
]

SSE_DONE = b"data: [DONE]\n\n"
"""The sentinel event that ends an OpenAI stream."""

SSE_HEADERS: Mapping[str, str] = {"cache-control": "no-cache", "x-accel-buffering": "no"}
"""Response headers that keep proxies from buffering a stream."""

_MAX_PENDING = 8 * 1024 * 1024
"""An event larger than this is a broken upstream, not a long answer: refuse to buffer it."""


def encode_sse_data(payload: Mapping[str, object]) -> bytes:
    """One ``data:`` event; orjson never emits a newline, so one line is enough."""
    return b"data: " + orjson.dumps(payload) + b"\n\n"


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event: its ``event`` name ("message" if unnamed) and raw ``data``.

    ``data`` stays bytes because orjson parses bytes directly; multi-line data is
    joined with ``\\n`` as the spec says.
    """

    event: str
    data: bytes


class SSEDecoder:
    """Turns a byte stream into :class:`SSEEvent` values, one ``feed`` per socket read."""

    __slots__ = ("_buffer", "_data", "_event", "_has_data")

    def __init__(self) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[bytes] = []
        self._has_data = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Events completed by ``chunk``; a partial line waits in the buffer for the next."""
        buffer = self._buffer + chunk if self._buffer else chunk
        events: list[SSEEvent] = []
        start, size = 0, len(buffer)
        while start < size:
            lf = buffer.find(b"\n", start)
            cr = buffer.find(b"\r", start, lf if lf >= 0 else size)
            if cr >= 0:
                if cr + 1 == size:  # a \r at the very end: maybe half of \r\n, wait
                    break
                end, after = cr, cr + 2 if buffer[cr + 1] == 0x0A else cr + 1
            elif lf >= 0:
                end, after = lf, lf + 1
            else:
                break
            self._line(buffer[start:end], events)
            start = after
        self._buffer = buffer[start:]
        if len(self._buffer) > _MAX_PENDING:
            raise ValueError(f"an event-stream line exceeds {_MAX_PENDING} bytes")
        return events

    def close(self) -> list[SSEEvent]:
        """At end of stream: the last unterminated line and event, if any.

        The spec discards an event without its blank line; being lenient costs
        nothing, because a half-sent JSON payload still fails to parse upstream
        of here, while a server that omits the final blank line still works.
        """
        events: list[SSEEvent] = []
        if self._buffer:
            self._line(self._buffer.rstrip(b"\r"), events)
            self._buffer = b""
        self._line(b"", events)
        return events

    def _line(self, line: bytes, events: list[SSEEvent]) -> None:
        if not line:  # a blank line dispatches the event being built
            if self._has_data:
                data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
                events.append(SSEEvent(self._event or "message", data))
            self._event, self._data, self._has_data = "", [], False
            return
        if line[0] == 0x3A:  # ":" starts a comment (keep-alive pings)
            return
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
            self._has_data = True
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")


async def aiter_sse(chunks: AsyncIterable[bytes]) -> AsyncIterator[SSEEvent]:
    """Decode events from an async byte source as the bytes arrive (nothing is buffered)."""
    decoder = SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.close():
        yield event
