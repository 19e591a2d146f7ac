"""PostgreSQL LISTEN for the snapshot feed: real notifications from real commits."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from turnout.domain.access import LOCAL_ADMIN
from turnout.errors import InvalidInput, StoreUnavailable
from turnout.ports import ChangeListener
from turnout.services.registry import Registry
from turnout.store.notify import (
    LISTENER_APPLICATION_NAME,
    PgChangeListener,
    change_listener_factory,
    listen_conninfo,
)
from turnout.store.repositories import NOTIFY_CHANNEL
from turnout.wiring import open_registry

on_postgres = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
"""Run on the PostgreSQL side of the shared ``db_url`` fixture only (SQLite has no LISTEN)."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- the URL -> conninfo conversion (no server) ------------------------------------------


def test_conninfo_carries_every_part_of_the_url() -> None:
    info = conninfo_to_dict(
        listen_conninfo("postgresql+psycopg://app:s3cret@db.internal:6543/reg?sslmode=require")
    )
    assert {k: info[k] for k in ("user", "password", "host", "port", "dbname", "sslmode")} == {
        "user": "app",
        "password": "s3cret",
        "host": "db.internal",
        "port": "6543",
        "dbname": "reg",
        "sslmode": "require",
    }
    assert info["application_name"] == LISTENER_APPLICATION_NAME
    assert info["keepalives"] == "1"


def test_conninfo_accepts_the_other_postgres_spellings_and_query_overrides() -> None:
    info = conninfo_to_dict(
        listen_conninfo("postgres://u@h/d?application_name=gw&connect_timeout=2")
    )
    assert (info["user"], info["host"], info["dbname"]) == ("u", "h", "d")
    assert (info["application_name"], info["connect_timeout"]) == ("gw", "2")
    assert "port" not in info  # libpq's default, not a guess


def test_sqlite_has_no_listener() -> None:
    assert change_listener_factory("sqlite:///registry.db") is None
    with pytest.raises(InvalidInput, match="PostgreSQL"):
        listen_conninfo("sqlite:///registry.db")
    factory = change_listener_factory("postgresql+psycopg://u@127.0.0.1/d")
    assert factory is not None
    _conforms: ChangeListener = factory()  # the adapter honours the port


# --- against the server ----------------------------------------------------------------------


@pytest.fixture
async def listener(db_url: str) -> AsyncIterator[PgChangeListener]:
    opened = PgChangeListener(db_url)
    await opened.connect()
    yield opened
    await opened.aclose()


@pytest.fixture
def other(db_url: str) -> Iterator[Registry]:
    """Another registry (its own pool): writes arrive as another replica's would."""
    registry = open_registry(db_url)
    yield registry
    registry.close()


def _admin_conninfo(db_url: str) -> str:
    """Same server and database, under another name (so it never counts as a listener)."""
    return make_conninfo(listen_conninfo(db_url), application_name="turnout-tests")


def _notify(db_url: str, times: int = 1) -> None:
    """``times`` notifications committed together (distinct payloads: PostgreSQL folds twins)."""
    with psycopg.connect(_admin_conninfo(db_url), autocommit=True) as conn, conn.transaction():
        for seq in range(times):
            conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, str(seq)))


@pytest.mark.anyio
@on_postgres
async def test_a_registry_commit_wakes_the_listener(
    listener: PgChangeListener, other: Registry
) -> None:
    assert await listener.wait(0.05) is False  # nothing yet: the timeout elapses
    other.versions.add(LOCAL_ADMIN, "sim/chat-001")  # NOTIFY is delivered at commit
    assert await listener.wait(10) is True
    assert await listener.wait(0.05) is False  # consumed


@pytest.mark.anyio
@on_postgres
async def test_a_burst_of_notifications_wakes_the_listener_once(
    listener: PgChangeListener, db_url: str
) -> None:
    _notify(db_url, times=5)
    await asyncio.sleep(0.1)  # all five are in the socket buffer before the first wait
    assert await listener.wait(10) is True
    assert await listener.wait(0.05) is False  # the rest were drained


@pytest.mark.anyio
@on_postgres
async def test_wait_subscribes_on_first_use(db_url: str) -> None:
    fresh = PgChangeListener(db_url)
    try:
        assert fresh.connected is False
        assert await fresh.wait(0.01) is False
        assert fresh.connected is True
        _notify(db_url)
        assert await fresh.wait(10) is True
    finally:
        await fresh.aclose()
    await fresh.aclose()  # twice is fine


@pytest.mark.anyio
@on_postgres
async def test_a_killed_connection_raises_store_unavailable_and_stays_closed(
    listener: PgChangeListener, db_url: str
) -> None:
    with psycopg.connect(_admin_conninfo(db_url), autocommit=True) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            (LISTENER_APPLICATION_NAME,),
        ).fetchall()
    assert killed == [(True,)]
    with pytest.raises(StoreUnavailable, match="connection lost"):
        await listener.wait(10)
    assert listener.connected is False
    with pytest.raises(StoreUnavailable, match="closed"):
        await listener.wait(0.01)  # reconnecting is the caller's job


@pytest.mark.anyio
async def test_an_unreachable_server_raises_store_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    unreachable = PgChangeListener(f"postgresql+psycopg://postgres@127.0.0.1:{port}/nope")
    with pytest.raises(StoreUnavailable, match="cannot connect"):
        await unreachable.connect()
    await unreachable.aclose()
