"""Fixtures for the admin API: the real app under uvicorn on 127.0.0.1, and tokens.

The app is built on the ``registry`` fixture, so every test here runs once on
SQLite and once on PostgreSQL, with the fake clock driving token expiry. The
server runs in a background thread on a socket bound here (port 0, so no race
for the port) and is stopped before the registry closes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from turnout.domain.access import LOCAL_ADMIN, Role
from turnout.gateway.app import build_app
from turnout.http_client import HttpClient
from turnout.services.registry import Registry

MakeToken = Callable[..., str]
Serve = Callable[[FastAPI], str]


@pytest.fixture
def serve_app(serve_asgi: Callable[..., str]) -> Serve:
    """Call ``serve_app(app)`` for the base URL of any app; all stopped after the test."""
    return serve_asgi


@pytest.fixture
def api_url(registry: Registry, serve_app: Serve) -> str:
    """Base URL of the full turnout app serving ``registry``."""
    return serve_app(build_app(registry))


@pytest.fixture
def make_token(registry: Registry) -> MakeToken:
    """``make_token(role, name=None, expires_in=None)`` -> a fresh bearer secret."""
    counter = iter(range(1, 1_000_000))

    def make(role: Role, name: str | None = None, expires_in: timedelta | None = None) -> str:
        label = name or f"{role.value}-{next(counter)}"
        return registry.tokens.create(LOCAL_ADMIN, label, role, expires_in).secret

    return make


@pytest.fixture
def admin_token(make_token: MakeToken) -> str:
    return make_token(Role.ADMIN, "admin")


@pytest.fixture
def api(api_url: str, admin_token: str) -> Iterator[httpx.Client]:
    """An httpx client on ``/api/v1`` holding the admin token."""
    with httpx.Client(
        base_url=f"{api_url}/api/v1",
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=10,
    ) as client:
        yield client


@pytest.fixture
def as_role(api_url: str, make_token: MakeToken) -> Iterator[Callable[[Role], httpx.Client]]:
    """``as_role(Role.VIEWER)`` -> an httpx client holding a new token of that role."""
    clients: list[httpx.Client] = []

    def open_as(role: Role) -> httpx.Client:
        client = httpx.Client(
            base_url=f"{api_url}/api/v1",
            headers={"Authorization": f"Bearer {make_token(role)}"},
            timeout=10,
        )
        clients.append(client)
        return client

    yield open_as
    for client in clients:
        client.close()


@pytest.fixture
def http_client(api_url: str, admin_token: str) -> Iterator[HttpClient]:
    """The SDK's HTTP client as the admin, polling fast so tests wait little."""
    client = HttpClient(api_url, admin_token, poll_interval=0.05)
    yield client
    client.close()
