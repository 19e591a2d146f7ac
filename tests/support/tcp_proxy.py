"""A TCP forwarder on 127.0.0.1 that tests control, to cut a database away for real.

The shared PostgreSQL server is never stopped: gateways and stores under test
connect through this forwarder instead, and ``stop()`` aborts every forwarded
connection as a crashed server or a network cut would; ``start()`` listens again
on the same port; ``blackhole()`` is a silent partition (connections stay open,
nothing crosses).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

from sqlalchemy import make_url

__all__ = ["TcpProxy"]

HOST = "127.0.0.1"


class TcpProxy:
    """A TCP forwarder on 127.0.0.1 with its own event loop in a thread."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="e2e-tcp-proxy")
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._blackholed = False

    def start(self) -> None:
        self._call(self._start())

    def blackhole(self) -> None:
        """A silent partition: connections stay open but nothing crosses any more."""
        self._call(self._blackhole())

    def stop(self) -> None:
        """Stop listening and reset every forwarded connection."""
        self._call(self._stop())

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def url_for(self, db_url: str) -> str:
        """``db_url`` with its host and port replaced by this forwarder's."""
        return make_url(db_url).set(host=HOST, port=self.port).render_as_string(False)

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _start(self) -> None:
        self._blackholed = False
        if self._server is None:
            self._server = await asyncio.start_server(
                self._handle, HOST, self.port, reuse_address=True
            )
            self.port = self._server.sockets[0].getsockname()[1]

    async def _blackhole(self) -> None:
        self._blackholed = True
        for writer in self._writers:
            writer.transport.pause_reading()

    async def _stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=5)
        if server is not None:
            await server.wait_closed()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        writers = [client_w]
        self._writers.add(client_w)
        try:
            if self._blackholed:  # accept, then swallow everything until the client gives up
                while await client_r.read(65536):
                    pass
                return
            upstream_r, upstream_w = await asyncio.open_connection(*self.target)
            writers.append(upstream_w)
            self._writers.add(upstream_w)
            await asyncio.gather(_pipe(client_r, upstream_w), _pipe(upstream_r, client_w))
        except OSError:
            pass
        finally:
            for writer in writers:
                self._writers.discard(writer)
                writer.transport.abort()
            self._handlers.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.transport.abort()  # one side gone: so is the other
