"""Fixtures for provider tests: a real sim server on 127.0.0.1 (``serve_asgi`` is
in ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

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
