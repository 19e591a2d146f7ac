"""Routing around a failing version through the real gateway app: a retryable failure
is retried once on the alias's fallback, the breaker opens and traffic skips the
version, and after the version recovers a half-open trial brings traffic back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select
from tests.gateway.conftest import (
    DEADLINE_S,
    SMALL_BODY_LIMIT,
    V1,
    ServeAsgi,
    assemble_app,
    log_rows,
    sample,
    wait_until,
)

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.breaker import BreakerConfig
from turnout.errors import ProviderError
from turnout.providers.base import ChatRequest
from turnout.providers.sim import SimProvider
from turnout.services.registry import Registry
from turnout.store.schema import health_events

FLAKY_V = "sim/flaky-2025-01-01"
ALIAS = "flaky-chat"
BREAKER = BreakerConfig(
    window_s=10, min_requests=50, consecutive_failures=3, open_s=3.0, half_open_requests=2
)


class OutageProvider:
    """The sim, except that models in ``down`` fail like an overloaded upstream."""

    def __init__(self) -> None:
        self._sim = SimProvider()
        self.down: set[str] = set()
        self.calls: dict[str, int] = {}
        self.bad_request = False

    def _check(self, request: ChatRequest) -> None:
        self.calls[request.model] = self.calls.get(request.model, 0) + 1
        if self.bad_request:
            raise ProviderError("bad request: 'temperature' is out of range", 400, False)
        if request.model in self.down:
            raise ProviderError("upstream returned HTTP 503: overloaded", 502, True)

    async def complete(self, request: ChatRequest) -> dict[str, object]:
        self._check(request)
        return await self._sim.complete(request)

    async def stream(self, request: ChatRequest) -> AsyncIterator[dict[str, object]]:
        self._check(request)
        async for chunk in self._sim.stream(request):
            yield chunk

    async def aclose(self) -> None:
        await self._sim.aclose()


@pytest.fixture
def outage() -> OutageProvider:
    return OutageProvider()


@pytest.fixture
def url(
    db_url: str,
    seeded: Registry,
    tmp_path: Path,
    serve_asgi: ServeAsgi,
    outage: OutageProvider,
) -> str:
    seeded.versions.add(LOCAL_ADMIN, FLAKY_V)
    seeded.aliases.set(LOCAL_ADMIN, ALIAS, FLAKY_V, fallbacks=[V1])
    app = assemble_app(db_url, tmp_path / "s.json", outage, SMALL_BODY_LIMIT, breaker=BREAKER)
    return serve_asgi(app)


def _ask(url: str, stream: bool = False) -> httpx.Response:
    body = {"model": ALIAS, "stream": stream, "messages": [{"role": "user", "content": "2+2?"}]}
    return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=DEADLINE_S)


def _events(db_url: str) -> list[tuple[str, str]]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(health_events.c.version, health_events.c.state).order_by(health_events.c.id)
            ).all()
    finally:
        engine.dispose()
    return [(version, state) for version, state in rows]


@pytest.mark.parametrize("stream", [False, True], ids=["unstreamed", "streamed"])
def test_an_outage_is_routed_around_and_traffic_comes_back(
    url: str, db_url: str, outage: OutageProvider, stream: bool
) -> None:
    outage.down.add("flaky-2025-01-01")
    responses = [_ask(url, stream) for _ in range(10)]
    assert [r.status_code for r in responses] == [200] * 10  # the client sees no error
    assert {r.headers["x-turnout-arm"] for r in responses} == {"fallback"}
    assert {r.headers["x-turnout-version"] for r in responses} == {V1}
    # three failures (retried each time) open the breaker; then the version is skipped
    assert outage.calls["flaky-2025-01-01"] == 3
    assert sample(url, "turnout_fallbacks_total", alias=ALIAS, skipped=FLAKY_V, reason="retry") == 3
    assert sample(url, "turnout_fallbacks_total", alias=ALIAS, skipped=FLAKY_V, reason="open") == 7
    assert sample(url, "turnout_breaker_state", version=FLAKY_V) == 2.0
    wait_until(lambda: (FLAKY_V, "open") in _events(db_url), "the open event in the store")
    # the failed attempts are in the request log too, under the version that failed
    rows = wait_until(lambda: len(log_rows(db_url)) >= 13 and log_rows(db_url), "13 log rows")
    failed = [r for r in rows if r["version"] == FLAKY_V]
    assert len(failed) == 3
    assert all(r["status"] == 502 for r in failed)
    assert sum(1 for r in rows if r["arm"] == "fallback" and r["status"] == 200) == 10

    outage.down.clear()  # the version recovers: half-open trials bring traffic back

    def back() -> bool:
        return _ask(url, stream).headers["x-turnout-arm"] == "stable"

    wait_until(back, "traffic back on the primary")
    assert all(_ask(url, stream).headers["x-turnout-arm"] == "stable" for _ in range(3))
    wait_until(lambda: (FLAKY_V, "closed") in _events(db_url), "the closed event")
    states = [state for version, state in _events(db_url) if version == FLAKY_V]
    assert states[:3] == ["open", "half_open", "closed"]


def test_a_client_error_is_not_retried_and_does_not_trip_the_breaker(
    url: str, outage: OutageProvider
) -> None:
    outage.bad_request = True
    for _ in range(5):
        response = _ask(url)
        assert response.status_code == 502  # an upstream refusal, passed on with its message
        assert "out of range" in response.json()["error"]["message"]
        assert response.headers["x-turnout-version"] == FLAKY_V
    assert outage.calls == {"flaky-2025-01-01": 5}  # never retried on the fallback
    assert sample(url, "turnout_breaker_state", version=FLAKY_V) is None  # never changed


def test_without_a_fallback_the_error_reaches_the_client(
    url: str, seeded: Registry, outage: OutageProvider
) -> None:
    seeded.aliases.set(LOCAL_ADMIN, ALIAS, FLAKY_V, fallbacks=[])
    marker = seeded.ctx.store.change_marker()
    wait_until(lambda: httpx.get(f"{url}/readyz").json()["marker"] >= marker, "the new chain")
    outage.down.add("flaky-2025-01-01")
    statuses = [_ask(url).status_code for _ in range(6)]
    assert statuses == [502] * 6  # served by the primary: an open breaker with no fallback
    assert outage.calls["flaky-2025-01-01"] == 6
