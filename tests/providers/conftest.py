"""Fixtures for provider tests, including a real HTTP server on 127.0.0.1.

``serve_asgi`` runs any ASGI app under uvicorn in a background thread on a free
loopback port, waits until it accepts connections and stops it cleanly at the
end of the test. It is generic on purpose (gateway end-to-end tests can hoist it
to ``tests/conftest.py``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest
import uvicorn
from starlette.types import ASGIApp

from turnout.providers.sim_server import build_sim_app, sim_server_config

ConfigFactory = Callable[[ASGIApp, str, int], uvicorn.Config]
ServeAsgi = Callable[..., str]

_HOST = "127.0.0.1"


def plain_config(app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    """uvicorn defaults minus websockets (their import warns) and access logs."""
    return uvicorn.Config(app, host=host, port=port, ws="none", lifespan="on", log_level="warning")


@contextmanager
def running_server(
    app: ASGIApp, config_factory: ConfigFactory = plain_config, startup_timeout: float = 10.0
) -> Iterator[str]:
    """Serve ``app`` on a fresh 127.0.0.1 port in a thread; yield its base URL.

    The socket is bound here (port 0) and handed to uvicorn, so there is no race
    for the port; uvicorn closes it on shutdown.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((_HOST, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(config_factory(app, _HOST, port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.005)
        with socket.create_connection((_HOST, port), timeout=startup_timeout):
            pass  # accepting connections, not merely "started"
        yield f"http://{_HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        if thread.is_alive():
            raise RuntimeError("the test server did not stop")


@pytest.fixture
def serve_asgi() -> Iterator[ServeAsgi]:
    """Call ``serve_asgi(app[, config_factory])`` to get a base URL; stopped after the test."""
    with ExitStack() as stack:

        def serve(app: ASGIApp, config_factory: ConfigFactory = plain_config) -> str:
            return stack.enter_context(running_server(app, config_factory))

        yield serve


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
