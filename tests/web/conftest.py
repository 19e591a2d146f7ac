"""Fixtures for the dashboard: a seeded registry and in-process clients per role.

The page tests call the dashboard app in-process (Starlette's test client over
httpx), on SQLite and PostgreSQL through ``db_url``; the browser tests in
``test_browser.py`` serve the whole ``turnout serve`` app under uvicorn instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient
from tests.support.web import Tokens, seed, sign_in

from turnout.services.registry import Registry
from turnout.web.app import build_web_app

UiClient = Callable[..., TestClient]


@pytest.fixture
def tokens(registry: Registry) -> Tokens:
    return seed(registry)


@pytest.fixture
def ui(registry: Registry, tokens: Tokens) -> Iterator[UiClient]:
    """``ui(secret=None, page_size=50)``: a client, signed in when given a token."""
    clients: list[TestClient] = []

    def make(secret: str | None = None, page_size: int = 50) -> TestClient:
        client = TestClient(build_web_app(registry, page_size=page_size), follow_redirects=False)
        clients.append(client)
        if secret is not None:
            response = sign_in(client, secret)
            assert response.status_code == 303, response.text
        return client

    yield make
    for client in clients:
        client.close()
