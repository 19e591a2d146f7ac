"""The gateway's snapshot feed on real databases: swap on change, fail-static, recover.

Writes come from *another* registry (its own engine and pool), as another
replica's would. Outages are real on PostgreSQL: the feed reaches the server
through a TCP forwarder on 127.0.0.1 that the test stops (cutting every
connection) and starts again; the shared server itself is never touched. On
SQLite, which has no network, a store wrapper raises StoreUnavailable instead.
No timing is asserted beyond generous deadlines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from sqlalchemy import make_url
from tests.support.flaky_store import FlakyStore
from tests.support.tcp_proxy import TcpProxy

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.providers import ApiKeyAuth, ProviderConfig, ProviderKind
from turnout.errors import InvalidInput
from turnout.ports import ChangeListener, Clock, RegistryStore
from turnout.services.registry import Registry
from turnout.services.snapshot import RoutingSnapshot, load_snapshot
from turnout.services.snapshot_feed import ListenerFactory, SnapshotFeed
from turnout.services.snapshot_file import read_snapshot_file, snapshot_json, write_snapshot_file
from turnout.store import SqlStore, open_store
from turnout.store.notify import (
    LISTENER_APPLICATION_NAME,
    PgChangeListener,
    change_listener_factory,
    listen_conninfo,
)

V1, V2, V3 = "sim/chat-001", "sim/chat-002", "sim/chat-003"
DEADLINE_S = 10.0

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("sim_versions")]

on_postgres = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
"""PostgreSQL only: LISTEN/NOTIFY does not exist on SQLite."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- helpers ---------------------------------------------------------------------------------


async def eventually(condition: Callable[[], bool], deadline_s: float = DEADLINE_S) -> bool:
    """Poll ``condition`` on the loop until it holds or the deadline passes."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.005)
    return condition()


async def flip(registry: Registry, version: str, alias: str = "prod-chat") -> None:
    """Point ``alias`` at ``version`` from a worker thread (the loop keeps running)."""
    await asyncio.to_thread(registry.aliases.set, LOCAL_ADMIN, alias, version)


def served(feed: SnapshotFeed, alias: str = "prod-chat") -> str:
    return feed.current.resolve(alias).version  # the gateway's hot path: a dict lookup


@contextlib.asynccontextmanager
async def running(feed: SnapshotFeed) -> AsyncIterator[SnapshotFeed]:
    await feed.start()
    try:
        yield feed
    finally:
        await feed.stop()


class FakeClock(Protocol):
    """The ``clock`` fixture of tests/conftest.py: settable time."""

    def __call__(self) -> datetime: ...

    def advance(self, seconds: float = 1.0) -> datetime: ...


@dataclass
class Wiring:
    """What the feed is built on: its own store and, on PostgreSQL, a LISTEN factory."""

    store: RegistryStore
    listener_factory: ListenerFactory | None
    cut: Callable[[], None] = lambda: None
    restore: Callable[[], None] = lambda: None

    def feed(self, clock: Clock, path: Path | None = None, **options: Any) -> SnapshotFeed:
        """A feed on this wiring with test-speed intervals; ``options`` override them."""
        options.setdefault("listener_factory", self.listener_factory)
        for name, value in FAST.items():
            options.setdefault(name, value)
        return SnapshotFeed(self.store, clock, snapshot_path=path, **options)


FAST = {"poll_interval": 0.02, "check_interval": 0.5, "retry_initial": 0.02, "retry_max": 0.2}


@pytest.fixture
def direct(db_url: str) -> Iterator[Wiring]:
    """The feed's own store on the test database, as the gateway wires it."""
    store = open_store(db_url, migrate=False)
    yield Wiring(store, change_listener_factory(db_url))
    store.close()


@pytest.fixture
def cuttable(db_url: str) -> Iterator[Wiring]:
    """A feed wiring whose store can be cut off (``cut``) and brought back (``restore``)."""
    if db_url.startswith("sqlite"):
        flaky = FlakyStore(open_store(db_url, migrate=False))

        def set_down(down: bool) -> Callable[[], None]:
            return lambda: setattr(flaky, "down", down)

        yield Wiring(flaky, None, set_down(True), set_down(False))
        flaky.close()
        return
    target = make_url(db_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    try:
        proxy.start()
        url = proxy.url_for(db_url)
        store = open_store(url, migrate=False)
        yield Wiring(store, lambda: PgChangeListener(url), proxy.stop, proxy.start)
        store.close()
    finally:
        proxy.close()


@pytest.fixture
def snapshot_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "snapshot.json"


def _listener_pids(db_url: str) -> list[int]:
    info = make_conninfo(listen_conninfo(db_url), application_name="turnout-tests")
    with psycopg.connect(info, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            (LISTENER_APPLICATION_NAME,),
        ).fetchall()
    return [int(row[0]) for row in rows]


# --- loading and following -------------------------------------------------------------------


async def test_start_loads_the_first_snapshot_and_writes_the_file(
    registry: Registry, store: SqlStore, direct: Wiring, clock: Clock, snapshot_path: Path
) -> None:
    await flip(registry, V1)
    feed = direct.feed(clock, snapshot_path)
    assert feed.ready is False
    assert feed.status() == {
        "ready": False,
        "degraded": None,
        "marker": None,
        "snapshot_age_s": None,
        "source": None,
    }
    async with running(feed):
        assert feed.ready is True
        assert served(feed) == V1
        assert feed.status() == {
            "ready": True,
            "degraded": None,
            "marker": store.change_marker(),
            "snapshot_age_s": 0.0,
            "source": "store",
        }
        data = json.loads(snapshot_path.read_text())
        assert data["marker"] == store.change_marker()
        assert data["aliases"] == {
            "prod-chat": {"target": {"version": V1, "fallbacks": []}, "revision": 1}
        }
        assert data["loaded_at"] == clock().isoformat()
        assert list(snapshot_path.parent.iterdir()) == [snapshot_path]  # no temp files left


async def test_a_write_by_another_registry_is_swapped_in(
    registry: Registry,
    open_registry: Callable[[], Registry],
    direct: Wiring,
    clock: Clock,
    snapshot_path: Path,
) -> None:
    await flip(registry, V1)
    swaps: list[RoutingSnapshot] = []
    async with running(direct.feed(clock, snapshot_path)) as feed:
        feed.on_swap.append(swaps.append)
        first = feed.current
        other = open_registry()
        await asyncio.to_thread(other.aliases.set, LOCAL_ADMIN, "prod-chat", V2, [V3])
        assert await eventually(lambda: served(feed) == V2)
        assert feed.current.resolve("prod-chat").fallbacks == (V3,)
        assert first.resolve("prod-chat").version == V1  # snapshots are immutable
        assert swaps[-1] is feed.current
        assert await eventually(
            lambda: json.loads(snapshot_path.read_text())["marker"] == feed.current.marker
        )
        await asyncio.to_thread(other.aliases.rollback, LOCAL_ADMIN, "prod-chat")
        assert await eventually(lambda: served(feed) == V1)


async def test_refresh_reads_your_own_writes(
    registry: Registry, direct: Wiring, clock: Clock
) -> None:
    await flip(registry, V1)
    # Polling every 30 s and no NOTIFY: only refresh() can pick the write up in time.
    async with running(direct.feed(clock, listener_factory=None, poll_interval=30)) as feed:
        await flip(registry, V2)
        assert await feed.refresh() is True  # no waiting for the next poll or NOTIFY
        assert served(feed) == V2
        assert await feed.refresh() is False


async def test_on_swap_callbacks_see_every_swap_and_a_failing_one_is_contained(
    registry: Registry, direct: Wiring, clock: Clock
) -> None:
    await flip(registry, V1)
    seen: list[str] = []

    def broken(_snapshot: RoutingSnapshot) -> None:
        raise RuntimeError("a buggy metrics hook")

    feed = direct.feed(
        clock, on_swap=[broken, lambda s: seen.append(s.resolve("prod-chat").version)]
    )
    async with running(feed):
        assert seen == [V1]  # the first load counts
        await flip(registry, V2)
        assert await eventually(lambda: seen == [V1, V2])
        assert feed.degraded is None


@on_postgres
async def test_on_postgresql_the_swap_is_driven_by_notify(
    registry: Registry, direct: Wiring, clock: Clock
) -> None:
    await flip(registry, V1)
    # The safety-net check is 30 s away: only a NOTIFY can swap within the deadline.
    async with running(direct.feed(clock, check_interval=30)) as feed:
        assert await eventually(lambda: feed.listening)
        await flip(registry, V2)
        assert await eventually(lambda: served(feed) == V2)
        await flip(registry, V3)
        assert await eventually(lambda: served(feed) == V3)


class DeafListener:
    """A real LISTEN whose notifications get lost: ``wait`` only ever times out."""

    def __init__(self, url: str) -> None:
        self.inner = PgChangeListener(url)
        self.lost = 0

    async def connect(self) -> None:
        await self.inner.connect()

    async def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if await self.inner.wait(left):
                self.lost += 1
        return False

    async def aclose(self) -> None:
        await self.inner.aclose()


@on_postgres
async def test_a_missed_notification_is_caught_by_the_periodic_check(
    registry: Registry, direct: Wiring, db_url: str, clock: Clock
) -> None:
    await flip(registry, V1)
    listeners: list[DeafListener] = []

    def deaf() -> ChangeListener:
        listeners.append(DeafListener(db_url))
        return listeners[-1]

    async with running(direct.feed(clock, listener_factory=deaf, check_interval=0.3)) as feed:
        assert await eventually(lambda: feed.listening)
        await flip(registry, V2)
        assert await eventually(lambda: served(feed) == V2)
        assert await eventually(lambda: sum(x.lost for x in listeners) >= 1)  # it was missed


@on_postgres
async def test_a_listener_killed_by_the_server_is_replaced(
    registry: Registry, direct: Wiring, db_url: str, clock: Clock
) -> None:
    await flip(registry, V1)
    async with running(direct.feed(clock, check_interval=30)) as feed:
        assert await eventually(lambda: feed.listening)
        [first_pid] = await asyncio.to_thread(_listener_pids, db_url)
        info = make_conninfo(listen_conninfo(db_url), application_name="turnout-tests")
        with psycopg.connect(info, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (first_pid,))
        replaced: list[int] = []

        async def relistened() -> bool:
            replaced[:] = await asyncio.to_thread(_listener_pids, db_url)
            return feed.listening and bool(replaced) and first_pid not in replaced

        deadline = time.monotonic() + DEADLINE_S
        while not await relistened() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert len(replaced) == 1
        assert first_pid not in replaced
        await flip(registry, V2)  # the new subscription carries the next NOTIFY
        assert await eventually(lambda: served(feed) == V2)
        assert await eventually(lambda: feed.degraded is None)


# --- fail-static ------------------------------------------------------------------------------


async def test_a_store_outage_keeps_the_last_snapshot_and_recovers(
    registry: Registry, cuttable: Wiring, clock: FakeClock
) -> None:
    await flip(registry, V1)
    async with running(cuttable.feed(clock)) as feed:
        assert served(feed) == V1
        assert await eventually(lambda: cuttable.listener_factory is None or feed.listening)

        cuttable.cut()
        assert await eventually(lambda: feed.degraded is not None)
        await flip(registry, V2)  # written while this worker is cut off
        await asyncio.sleep(0.3)  # give it every chance to (wrongly) drop what it serves
        assert served(feed) == V1
        clock.advance(30)
        status = feed.status()
        assert status["ready"] is True
        assert status["source"] == "store"
        assert status["snapshot_age_s"] == 30.0  # nothing confirmed since the cut
        assert status["degraded"] is not None
        assert any(word in status["degraded"] for word in ("unreachable", "lost", "connect"))

        cuttable.restore()
        assert await eventually(lambda: served(feed) == V2 and feed.degraded is None)
        assert feed.status()["snapshot_age_s"] == 0.0
        if cuttable.listener_factory is not None:  # and it re-subscribed
            assert await eventually(lambda: feed.listening)


async def _seed_file(wiring: Wiring, clock: Clock, path: Path) -> int:
    """A previous worker's run: load from the store once, leaving the snapshot file."""
    async with running(wiring.feed(clock, path)) as feed:
        return feed.current.marker


async def test_cold_start_with_the_store_down_serves_the_file_then_the_store(
    registry: Registry, direct: Wiring, cuttable: Wiring, clock: FakeClock, snapshot_path: Path
) -> None:
    await flip(registry, V1)
    seeded = await _seed_file(direct, clock, snapshot_path)
    clock.advance(60)
    cuttable.cut()
    async with running(cuttable.feed(clock, snapshot_path)) as feed:
        assert feed.ready is True
        assert served(feed) == V1
        status = feed.status()
        assert (status["source"], status["marker"]) == ("file", seeded)
        assert status["snapshot_age_s"] == 60.0  # as old as the previous worker's load
        assert status["degraded"] is not None

        await flip(registry, V2)
        await asyncio.sleep(0.2)
        assert feed.source == "file"
        assert served(feed) == V1
        cuttable.restore()
        assert await eventually(lambda: feed.source == "store" and feed.degraded is None)
        assert await eventually(lambda: served(feed) == V2)
    on_disk = read_snapshot_file(snapshot_path)
    assert on_disk is not None
    assert on_disk.marker > seeded  # the store's snapshot replaced the old file


async def test_no_file_and_no_store_is_not_ready_until_the_store_answers(
    registry: Registry, cuttable: Wiring, clock: Clock, snapshot_path: Path
) -> None:
    await flip(registry, V1)
    cuttable.cut()
    async with running(cuttable.feed(clock, snapshot_path)) as feed:
        status = feed.status()
        assert status["ready"] is False
        assert status["degraded"] is not None
        assert status["source"] is None
        await asyncio.sleep(0.2)  # retrying, still nothing to serve
        assert feed.ready is False
        assert not snapshot_path.exists()

        cuttable.restore()
        assert await eventually(lambda: feed.ready)
        assert served(feed) == V1
        assert feed.status()["source"] == "store"
        assert await eventually(lambda: feed.degraded is None)
        assert snapshot_path.exists()


async def test_a_corrupt_file_is_ignored_and_replaced(
    registry: Registry, cuttable: Wiring, clock: Clock, snapshot_path: Path
) -> None:
    await flip(registry, V1)
    snapshot_path.parent.mkdir(parents=True)
    snapshot_path.write_text('{"marker": 3, "aliases": {')  # a torn write by some other tool
    cuttable.cut()
    async with running(cuttable.feed(clock, snapshot_path)) as feed:
        assert feed.ready is False
        cuttable.restore()
        assert await eventually(lambda: feed.ready and feed.degraded is None)
    rewritten = read_snapshot_file(snapshot_path)
    assert rewritten is not None
    assert rewritten.resolve("prod-chat").version == V1


async def test_the_file_is_not_rewritten_when_the_marker_is_unchanged(
    registry: Registry, direct: Wiring, clock: FakeClock, snapshot_path: Path
) -> None:
    await flip(registry, V1)
    await _seed_file(direct, clock, snapshot_path)
    first = snapshot_path.read_text()
    clock.advance(60)
    async with running(direct.feed(clock, snapshot_path)) as feed:
        assert feed.status()["source"] == "store"
        assert snapshot_path.read_text() == first  # same marker: same file, old loaded_at
        await flip(registry, V2)
        assert await eventually(lambda: served(feed) == V2)
        assert await eventually(lambda: snapshot_path.read_text() != first)


async def test_start_and_stop_are_idempotent(
    registry: Registry, direct: Wiring, clock: Clock
) -> None:
    await flip(registry, V1)
    feed = direct.feed(clock)
    await feed.stop()  # never started
    await feed.start()
    await feed.start()
    await feed.stop()
    await feed.stop()
    assert served(feed) == V1  # the last snapshot stays readable after stop


# --- the snapshot file format ------------------------------------------------------------------


async def test_the_snapshot_file_round_trips(
    registry: Registry, store: SqlStore, clock: Clock, tmp_path: Path
) -> None:
    await flip(registry, V1)
    await asyncio.to_thread(registry.aliases.set, LOCAL_ADMIN, "batch", V2, [V3])
    snapshot = load_snapshot(store, clock)
    path = tmp_path / "snapshot.json"
    write_snapshot_file(path, snapshot)
    again = read_snapshot_file(path)
    assert again is not None
    assert snapshot_json(again) == snapshot_json(snapshot)
    assert again.resolve("batch") == snapshot.resolve("batch")
    assert read_snapshot_file(tmp_path / "missing.json") is None
    # a provider's azure fields survive the file; files without them still load
    azure = ProviderConfig(
        "azure",
        ProviderKind.OPENAI,
        "https://res.openai.azure.com/openai/deployments/d",
        "AZURE_KEY",
        ApiKeyAuth.API_KEY,
        "2024-10-21",
    )
    plain = ProviderConfig("vllm", ProviderKind.OPENAI, "http://127.0.0.1:8000/v1")
    with_azure = replace(snapshot, providers={"azure": azure, "vllm": plain})
    write_snapshot_file(path, with_azure)
    reread = read_snapshot_file(path)
    assert reread is not None
    assert reread.providers == {"azure": azure, "vllm": plain}
    assert snapshot_json(with_azure)["providers"]["vllm"] == {
        "kind": "openai",
        "base_url": "http://127.0.0.1:8000/v1",
        "api_key_env": None,
    }
    path.write_text(json.dumps({"format": 99, "marker": 1, "aliases": {}}))
    with pytest.raises(InvalidInput, match="format"):
        read_snapshot_file(path)
    path.write_text("[]")
    with pytest.raises(InvalidInput):
        read_snapshot_file(path)
