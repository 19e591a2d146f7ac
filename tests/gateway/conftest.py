"""Fixtures for the gateway: the whole ``turnout serve`` app under uvicorn on 127.0.0.1.

``gateway_url`` is the real thing: :func:`turnout.wiring.build_server_app` on the
test's database (SQLite and PostgreSQL, through ``db_url``), served with its
lifespan on, so the snapshot feed and the request-log writer run as in
production. The versions and aliases it serves are written by the ``registry``
fixture, which holds its own store on the same database, as another replica or
the CLI would.

``scripted_url`` serves the same pieces as ``build_server_app``, assembled here
with a :class:`ScriptedProvider` behind every version (it counts calls, cuts a
stream mid-way, hangs until cancelled) and a small body limit, for what the sim
cannot do on purpose. Helpers to read ``/metrics`` and the ``request_log`` table
and to poll against a deadline live here too; nothing in this package sleeps a
fixed time to assert timing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, select

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.breaker import BreakerConfig
from turnout.domain.health import HealthEvent
from turnout.domain.providers import ProviderConfig
from turnout.errors import ProviderError
from turnout.gateway.app import build_app
from turnout.gateway.asgi import TurnoutASGI
from turnout.gateway.chat import ChatGateway
from turnout.gateway.failover import Failover
from turnout.gateway.health import HealthBook
from turnout.gateway.metrics import GatewayMetrics
from turnout.gateway.provider_pool import ProviderPool
from turnout.gateway.routing import Router
from turnout.providers.base import ChatChunk, ChatProvider, ChatRequest
from turnout.providers.registry import ProviderRegistry
from turnout.providers.sim import SimProvider
from turnout.services.context import system_clock
from turnout.services.registry import Registry
from turnout.services.request_log import BatchWriter, RequestLogWriter
from turnout.services.snapshot_feed import SnapshotFeed
from turnout.store.notify import change_listener_factory
from turnout.store.schema import request_log
from turnout.wiring import build_server_app, open_registry

V1 = "sim/chat-2025-01-01"
V2 = "sim/chat-2025-06-01"
BROKEN_V = "sim/broken-2025-01-01"
CUT_V = "sim/cut-2025-01-01"
HANG_V = "sim/hang-2025-01-01"
STALL_V = "sim/stall-2025-01-01"

ALIAS = "prod-chat"
BROKEN = "broken-chat"
CUT = "cut-chat"
HANG = "hang-chat"
STALL = "stall-chat"

QUESTION = "What is 17 + 25?"
MESSAGES: list[Any] = [{"role": "user", "content": QUESTION}]
DEADLINE_S = 10.0
SMALL_BODY_LIMIT = 2048

ServeAsgi = Callable[..., str]
Row = dict[str, Any]


def wait_until(check: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S) -> Any:
    """Poll ``check`` until it returns something truthy; fail after the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {deadline_s}s waiting for {what}")
        time.sleep(0.02)


def scrape(base_url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """``/metrics`` parsed: (sample name, its labels) -> value."""
    text = httpx.get(f"{base_url}/metrics", timeout=DEADLINE_S).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(base_url: str, name: str, **labels: str) -> float | None:
    """One sample of ``/metrics`` (None if absent)."""
    return scrape(base_url).get((name, frozenset(labels.items())))


def log_rows(db_url: str) -> list[Row]:
    """Every row of ``request_log``, oldest first (a fresh engine: another reader)."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(request_log).order_by(request_log.c.id)).mappings()
            return [dict(row) for row in rows]
    finally:
        engine.dispose()


def wait_for_log(db_url: str, request_ids: set[str]) -> dict[str, Row]:
    """The ``request_log`` rows of ``request_ids``, once the writer has flushed them all."""

    def found() -> dict[str, Row] | None:
        rows = {row["request_id"]: row for row in log_rows(db_url)}
        return rows if request_ids <= rows.keys() else None

    rows: dict[str, Row] = wait_until(found, f"request log rows {sorted(request_ids)}")
    return {rid: rows[rid] for rid in request_ids}


# -- the database the gateway serves ----------------------------------------------


@pytest.fixture
def seeded(registry: Registry) -> Registry:
    """Sim versions and an alias for each.

    ``prod-chat`` -> V1 answers arithmetic right; ``broken-chat`` fails every call
    (``error_rate: 1.0``); the cut, hang and stall aliases only misbehave behind
    a :class:`ScriptedProvider` (the plain sim answers them normally).
    """
    registry.versions.add(LOCAL_ADMIN, V1, {"quality": 1.0})
    registry.versions.add(LOCAL_ADMIN, V2, {"quality": 1.0})
    registry.versions.add(LOCAL_ADMIN, BROKEN_V, {"error_rate": 1.0})
    registry.versions.add(LOCAL_ADMIN, CUT_V)
    registry.versions.add(LOCAL_ADMIN, HANG_V)
    registry.versions.add(LOCAL_ADMIN, STALL_V)
    registry.aliases.set(LOCAL_ADMIN, ALIAS, V1)
    registry.aliases.set(LOCAL_ADMIN, BROKEN, BROKEN_V)
    registry.aliases.set(LOCAL_ADMIN, CUT, CUT_V)
    registry.aliases.set(LOCAL_ADMIN, HANG, HANG_V)
    registry.aliases.set(LOCAL_ADMIN, STALL, STALL_V)
    return registry


@pytest.fixture
def snapshot_path(tmp_path: Path) -> Path:
    return tmp_path / "snap.json"


@pytest.fixture
def gateway_url(db_url: str, seeded: Registry, snapshot_path: Path, serve_asgi: ServeAsgi) -> str:
    """Base URL of ``build_server_app(db_url)`` serving the seeded registry."""
    return serve_asgi(build_server_app(db_url, snapshot_path=snapshot_path))


@pytest.fixture
def oai(gateway_url: str) -> Iterator[openai.OpenAI]:
    """The official OpenAI SDK pointed at the gateway (no retries: every call is one request)."""
    with openai.OpenAI(
        base_url=f"{gateway_url}/v1", api_key="x", max_retries=0, timeout=DEADLINE_S
    ) as client:
        yield client


# -- a provider that does what the sim will not ------------------------------------


class ScriptedProvider:
    """A :class:`ChatProvider` for every sim version: counts calls, misbehaves on cue.

    ``CUT_V`` streams two chunks and then fails; ``HANG_V`` streams one chunk and
    then waits forever; ``STALL_V`` waits forever before answering at all (whole
    or streamed). The waits record how they were stopped. Every other model is
    answered by a real :class:`SimProvider`.
    """

    def __init__(self) -> None:
        self._sim = SimProvider()
        self._lock = threading.Lock()
        self.calls = 0
        self.hang_started = threading.Event()
        self.hang_cancelled = threading.Event()
        self.hang_closed = threading.Event()
        self.stall_started = threading.Event()
        self.stall_cancelled = threading.Event()

    def _count(self) -> None:
        with self._lock:
            self.calls += 1

    async def _stall(self) -> None:
        self.stall_started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.stall_cancelled.set()
            raise

    async def complete(self, request: ChatRequest) -> dict[str, object]:
        self._count()
        if request.model == _model(STALL_V):
            await self._stall()
        return await self._sim.complete(request)

    async def stream(self, request: ChatRequest) -> AsyncIterator[dict[str, object]]:
        self._count()
        if request.model == _model(STALL_V):
            await self._stall()
        if request.model == _model(CUT_V):
            yield _chunk(request, "Hello", role="assistant")
            yield _chunk(request, " world")
            raise ProviderError("upstream connection reset mid-stream")
        if request.model == _model(HANG_V):
            yield _chunk(request, "Thinking", role="assistant")
            self.hang_started.set()
            try:
                await asyncio.Event().wait()  # an upstream that never sends again
            except asyncio.CancelledError:
                self.hang_cancelled.set()
                raise
            finally:
                self.hang_closed.set()
            return
        async for chunk in self._sim.stream(request):
            yield chunk

    async def aclose(self) -> None:
        await self._sim.aclose()


def _model(version: str) -> str:
    return version.partition("/")[2]


def _chunk(request: ChatRequest, text: str, role: str | None = None) -> dict[str, object]:
    return ChatChunk("chatcmpl-scripted", request.model, text, role=role).to_openai()


class FixedPool(ProviderPool):
    """A pool that hands out one adapter for every provider configuration."""

    def __init__(self, adapter: ChatProvider) -> None:
        super().__init__(ProviderRegistry())
        self._adapter = adapter

    def get(self, config: ProviderConfig) -> ChatProvider:
        return self._adapter


def assemble_app(
    db_url: str,
    snapshot_path: Path,
    adapter: ChatProvider,
    max_body_bytes: int,
    breaker: BreakerConfig | None = None,
) -> TurnoutASGI:
    """What ``build_server_app`` builds, with ``adapter`` behind every version.

    With ``breaker``, the gateway also has circuit breakers and fallback routing,
    and stores their events, as ``turnout serve`` does.
    """
    registry = open_registry(db_url)
    store = registry.ctx.store
    feed = SnapshotFeed(
        store,
        system_clock,
        listener_factory=change_listener_factory(db_url),
        snapshot_path=snapshot_path,
    )
    pool = FixedPool(adapter)
    metrics = GatewayMetrics()
    writer = RequestLogWriter(store.log_requests)
    router = Router(feed, pool, registry.ctx.catalog)
    failover, writers = None, ()
    if breaker is not None:
        events = BatchWriter[HealthEvent](store.log_health_events, interval=0.05)
        failover = Failover(HealthBook(breaker, metrics, on_event=events.submit), metrics)
        writers = (events,)
    chat = ChatGateway(router, writer, metrics, max_body_bytes=max_body_bytes, failover=failover)
    return TurnoutASGI(
        build_app(registry),
        chat,
        feed,
        writer,
        pool,
        metrics,
        on_shutdown=registry.close,
        writers=writers,
    )


@pytest.fixture
def scripted() -> ScriptedProvider:
    return ScriptedProvider()


@pytest.fixture
def scripted_url(
    db_url: str,
    seeded: Registry,
    snapshot_path: Path,
    serve_asgi: ServeAsgi,
    scripted: ScriptedProvider,
) -> str:
    """Base URL of the assembled app with ``scripted`` as every version's provider."""
    app = assemble_app(db_url, snapshot_path, scripted, SMALL_BODY_LIMIT)
    return serve_asgi(app)
