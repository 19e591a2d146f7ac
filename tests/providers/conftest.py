"""Fixtures for provider tests: a real sim server on 127.0.0.1 (``serve_asgi`` is
in ``tests/conftest.py``), the pieces fake upstreams are built from, and raw TCP
upstreams that misbehave in ways no ASGI server will (reset, stop mid-body).

Fake upstreams run in uvicorn's thread with their own event loop, so the test and
the fake talk through :class:`Flag` (a thread-safe event either loop can await).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

import pytest
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from turnout.providers.sim_server import build_sim_app, sim_server_config

ServeAsgi = Callable[..., str]


@pytest.fixture
def sim_url(serve_asgi: ServeAsgi) -> str:
    """A sim server with production settings (uvloop, httptools) and two known models."""
    app = build_sim_app(
        models={"chat-good": {"quality": 1.0}, "chat-broken": {"error_rate": 1.0}},
        default_params={"latency_ms": 5, "ttft_ms": 2},
        seed=7,
    )
    return serve_asgi(app, sim_server_config)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


ServeRaw = Callable[..., str]


def _read_request(conn: socket.socket) -> None:
    """Consume one HTTP request (headers and a Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            return
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        piece = conn.recv(65536)
        if not piece:
            return
        body += piece


def _reset(conn: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP RST, as from a crashed proxy."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


@pytest.fixture
def serve_raw() -> Iterator[ServeRaw]:
    """``serve_raw(reply, *, wait=None)``: a TCP server on 127.0.0.1 that, per connection,
    reads one request, sends ``reply`` (raw bytes, maybe a partial response), waits
    for the ``wait`` threading.Event if given, then resets the connection."""
    stops: list[tuple[socket.socket, threading.Event, threading.Thread]] = []

    def serve(reply: bytes, *, wait: threading.Event | None = None) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.05)
        stop = threading.Event()

        def run() -> None:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                conn.settimeout(10)
                try:
                    _read_request(conn)
                    conn.sendall(reply)
                    if wait is not None:
                        wait.wait(10)
                finally:
                    _reset(conn)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        stops.append((listener, stop, thread))
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield serve
    for listener, stop, thread in stops:
        stop.set()
        thread.join(timeout=15)
        listener.close()


@pytest.fixture
def refused_url() -> str:
    """A 127.0.0.1 URL where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class Flag(threading.Event):
    """A threading.Event that either event loop can await without blocking itself."""

    async def until(self, seconds: float = 10.0) -> bool:
        deadline = time.monotonic() + seconds
        while not self.is_set():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.002)
        return True


@dataclass
class FakeState:
    """What a fake upstream saw, and the switches a test flips to steer it."""

    seen: list[dict[str, object]] = field(default_factory=list)
    release: Flag = field(default_factory=Flag)  # the fake holds the rest of an answer until set
    started: Flag = field(default_factory=Flag)  # the fake got a request it will sit on
    gone: Flag = field(default_factory=Flag)  # the fake saw its client disconnect


class LiveStream(Response):
    """An event-stream response that notices the client leaving even while it waits.

    Starlette's StreamingResponse only finds out at its next write; a test that
    asserts "the adapter released the connection" needs to know at once.
    """

    def __init__(self, pieces: AsyncIterator[bytes], state: FakeState) -> None:
        super().__init__(media_type="text/event-stream")
        self._pieces = pieces
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/event-stream")]  # chunked: no content-length
        await send({"type": "http.response.start", "status": 200, "headers": headers})

        async def pump() -> None:
            async for piece in self._pieces:
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        pumping, watching = asyncio.ensure_future(pump()), asyncio.ensure_future(watch())
        done, _ = await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
        if watching in done or pumping.exception() is not None:
            self._state.gone.set()
        for task in (pumping, watching):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def wait_for_disconnect(receive: Receive, state: FakeState, seconds: float = 10.0) -> None:
    """Sit on a request (its body already read) until the client goes away."""
    state.started.set()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while (await receive())["type"] != "http.disconnect":
                pass
            state.gone.set()


@pytest.fixture
def fake_state() -> FakeState:
    return FakeState()


@pytest.fixture
def live_stream() -> type[LiveStream]:
    return LiveStream


@pytest.fixture
def sit_until_disconnect() -> Callable[..., object]:
    return wait_for_disconnect
