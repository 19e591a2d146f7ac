"""Shared fixtures: registries on SQLite *and* PostgreSQL, a fake clock.

PostgreSQL tests use the server on 127.0.0.1:5432 (``TURNOUT_TEST_PG`` overrides
the admin URL) in a database of their own, created for the session and dropped
at its end; the shared server is never reconfigured. They are never skipped
silently: set ``TURNOUT_TEST_POSTGRES=skip`` to opt out on a laptop, and
``.ci/run`` fails if any of them did not run.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn
from sqlalchemy import create_engine, text
from starlette.types import ASGIApp
from tests.support.pg import fresh_pg_database

from turnout.catalog_file import load_bundled_catalog
from turnout.client import LocalClient
from turnout.domain.audit import GENESIS_HASH
from turnout.services.context import ServiceContext
from turnout.services.registry import Registry
from turnout.store import SqlStore, open_store
from turnout.store.schema import metadata
from turnout.wiring import check_adapter_params


class FakeClock:
    """A settable clock: tests move time explicitly instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 15, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 1.0) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database for this test session; dropped at the end."""
    with fresh_pg_database("turnout_test") as url:
        yield url


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def _truncate_postgres(url: str) -> None:
    """Empty every table of a migrated database: much cheaper than re-migrating."""
    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        conn.execute(
            text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :genesis)"),
            {"genesis": GENESIS_HASH},
        )
    engine.dispose()


_pg_migrated: dict[str, bool] = {}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """An empty registry database URL (migrated on PostgreSQL): once per store kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/registry.db"
    url: str = request.getfixturevalue("pg_database")
    if _pg_migrated.get(url):
        _truncate_postgres(url)
    else:
        _reset_postgres(url)
        open_store(url).close()
        _pg_migrated[url] = True
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """A database with no tables at all, for migration tests."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/registry.db"
    url: str = request.getfixturevalue("pg_database")
    _reset_postgres(url)
    _pg_migrated[url] = False
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[SqlStore]:
    opened = open_store(db_url)
    yield opened
    opened.close()


@pytest.fixture
def registry(store: SqlStore, clock: FakeClock) -> Registry:
    return Registry(ServiceContext(store, load_bundled_catalog(), clock, check_adapter_params))


@pytest.fixture
def client(registry: Registry) -> Iterator[LocalClient]:
    local = LocalClient(registry, poll_interval=0.02)
    yield local
    local.close()


# -- PostgreSQL tests must not be skipped silently -----------------------------

_pg_outcomes: dict[str, int] = {"passed": 0, "skipped": 0, "failed": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "postgres" not in report.keywords:
        return
    if report.when == "call" and report.outcome in _pg_outcomes:
        _pg_outcomes[report.outcome] += 1
    elif report.skipped:
        _pg_outcomes["skipped"] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With TURNOUT_REQUIRE_POSTGRES=1 (``make test``), a skipped PostgreSQL test fails the run."""
    if not os.environ.get("TURNOUT_REQUIRE_POSTGRES") or session.config.option.collectonly:
        return
    if _pg_outcomes["skipped"] or (not _pg_outcomes["passed"] and not _pg_outcomes["failed"]):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"FAILED: PostgreSQL tests are required (passed {_pg_outcomes['passed']}, "
                f"skipped {_pg_outcomes['skipped']})",
                red=True,
            )


# -- real HTTP servers on 127.0.0.1 ---------------------------------------------

ConfigFactory = Callable[[ASGIApp, str, int], uvicorn.Config]
ServeAsgi = Callable[..., str]

_HOST = "127.0.0.1"


def plain_config(app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    """uvicorn defaults minus websockets (their import warns) and access logs.

    A bounded graceful shutdown: a test that leaves a request hanging fails on its
    own assertions instead of stalling the server's teardown.
    """
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ws="none",
        lifespan="on",
        log_level="warning",
        timeout_graceful_shutdown=5,
    )


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
        thread.join(timeout=30)
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
