"""The registry store over SQLAlchemy: SQLite by default, PostgreSQL for replicas."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select

from turnout.domain.health import HealthEvent, VersionTraffic
from turnout.domain.requests import RequestRecord
from turnout.domain.rollouts import Observation, Rollout
from turnout.domain.shadow import ShadowCount, ShadowPair
from turnout.store.engine import (
    WRITE_OPTION,
    build_engine,
    normalise_url,
    safe_url,
    translate_errors,
)
from turnout.store.health_store import insert_events, select_events, version_traffic
from turnout.store.migrate import ensure_schema
from turnout.store.repositories import SqlUnitOfWork
from turnout.store.rollout_observer import observe_rollout
from turnout.store.rows import REQUEST_COLUMNS, request_params
from turnout.store.schema import audit_head, feedback
from turnout.store.shadow_store import count_pairs, insert_pairs, select_pairs

__all__ = ["SqlStore", "chunk_sizes", "open_store"]


class SqlStore:
    """Implements :class:`turnout.ports.RegistryStore` for any SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = safe_url(engine.url)
        self._insert_cache: dict[int, str] = {}

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def unit_of_work(self, write: bool = False) -> Iterator[SqlUnitOfWork]:
        with translate_errors(f"registry {self.url}"), self.engine.connect() as raw:
            conn = raw.execution_options(**{WRITE_OPTION: write})
            with conn.begin():
                if write and conn.dialect.name == "postgresql":
                    _lock_writers(conn)
                yield SqlUnitOfWork(conn)

    def _request_insert_many(self, rows: int) -> str:
        statement = self._insert_cache.get(rows)
        if statement is None:
            statement = _request_insert_sql(self.engine.dialect.name, rows)
            if len(self._insert_cache) < 64:
                self._insert_cache[rows] = statement
        return statement

    def log_requests(self, records: Sequence[RequestRecord]) -> None:
        """Append a batch to the request log: one short transaction, outside the
        registry's writer lock (request traffic must never queue behind a flip)."""
        if not records:
            return
        # Multi-row INSERTs at the driver level: the Core insert path costs ~3x the
        # CPU per row, and executemany steps SQLite once per row, releasing and
        # re-taking the GIL each time — which stalls the gateway's event loop
        # thread. One statement per chunk of rows steps once.
        sqlite = self.engine.dialect.name == "sqlite"
        rows = [request_params(record, sqlite) for record in records]
        with translate_errors(f"request log {self.url}"), self.engine.connect() as raw:
            conn = raw.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                start = 0
                for size in chunk_sizes(len(rows)):
                    chunk = rows[start : start + size]
                    start += size
                    flat = tuple(value for row in chunk for value in row)
                    conn.exec_driver_sql(self._request_insert_many(size), flat)
                scored = [
                    {
                        "request_id": r.request_id,
                        "score": score,
                        "source": f"scorer:{name}",
                        "at": r.at,
                    }
                    for r in records
                    for name, score in r.scores
                ]
                if scored:  # online scorers' results, in the same transaction as their requests
                    conn.execute(insert(feedback), scored)

    def record_feedback(self, request_id: str, score: float, source: str, at: datetime) -> None:
        """One feedback row, in a short transaction of its own outside the registry's
        writer lock, like the request log: scores must not queue behind a flip."""
        row = {"request_id": request_id, "score": score, "source": source, "at": at}
        with translate_errors(f"feedback {self.url}"), self.engine.connect() as raw:
            conn = raw.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                conn.execute(insert(feedback), row)

    def log_shadow_pairs(self, pairs: Sequence[ShadowPair]) -> None:
        """Append a batch of shadow pairs, like the request log: outside the writer lock."""
        if not pairs:
            return
        with translate_errors(f"shadow pairs {self.url}"), self.engine.connect() as raw:
            conn = raw.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                insert_pairs(conn, pairs)

    def shadow_pairs(
        self,
        alias: str,
        candidate: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
        source: str | None = None,
    ) -> list[ShadowPair]:
        """The newest ``limit`` pairs of ``alias`` in the window, oldest first."""
        with translate_errors(f"shadow pairs {self.url}"), self.engine.connect() as conn:
            return select_pairs(conn, alias, candidate, since, until, limit, source)

    def shadow_counts(self, alias: str, since: datetime | None = None) -> list[ShadowCount]:
        with translate_errors(f"shadow pairs {self.url}"), self.engine.connect() as conn:
            return count_pairs(conn, alias, since)

    def log_health_events(self, events: Sequence[HealthEvent]) -> None:
        """Append breaker and probe events (outside the registry's writer lock)."""
        if not events:
            return
        with translate_errors(f"health events {self.url}"), self.engine.connect() as raw:
            conn = raw.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                insert_events(conn, events)

    def health_events(
        self, version: str | None = None, since: datetime | None = None, limit: int = 50
    ) -> list[HealthEvent]:
        with translate_errors(f"health events {self.url}"), self.engine.connect() as conn:
            return select_events(conn, version, since, limit)

    def version_traffic(self, versions: Sequence[str], since: datetime) -> list[VersionTraffic]:
        with translate_errors(f"request log {self.url}"), self.engine.connect() as conn:
            return version_traffic(conn, versions, since)

    def observe(self, rollout: Rollout, now: datetime) -> Observation:
        """A rollout's evidence from the request log and feedback (read-only)."""
        with translate_errors(f"request log {self.url}"), self.engine.connect() as conn:
            return observe_rollout(conn, rollout, now)

    def change_marker(self) -> int:
        with translate_errors(f"registry {self.url}"), self.engine.connect() as conn, conn.begin():
            return int(
                conn.execute(select(audit_head.c.seq).where(audit_head.c.id == 1)).scalar_one()
            )

    def close(self) -> None:
        self.engine.dispose()


_ROWS_PER_INSERT = 512
"""Rows per multi-row INSERT: 512 x 14 parameters stays under SQLite's 32766 limit."""


def chunk_sizes(rows: int) -> list[int]:
    """Split ``rows`` into full chunks, then powers of two: few distinct statements.

    Drivers cache prepared statements by their text (the sqlite3 module keeps 128
    per connection). A statement per batch length would fill that cache with
    hundreds of large multi-row programs — measured as ~550 bytes of RSS growth
    per request — so batches use at most eleven distinct shapes.
    """
    sizes = [_ROWS_PER_INSERT] * (rows // _ROWS_PER_INSERT)
    rest = rows % _ROWS_PER_INSERT
    size = _ROWS_PER_INSERT // 2
    while rest:
        if rest >= size:
            sizes.append(size)
            rest -= size
        size //= 2
    return sizes


def _request_insert_sql(dialect: str, rows: int) -> str:
    """A ``rows``-row request-log INSERT in the driver's own parameter style."""
    mark = "?" if dialect == "sqlite" else "%s"
    one = "(" + ", ".join(mark for _ in REQUEST_COLUMNS) + ")"
    values = ", ".join(one for _ in range(rows))
    return f"INSERT INTO request_log ({', '.join(REQUEST_COLUMNS)}) VALUES {values}"


def _lock_writers(conn: Connection) -> None:
    """PostgreSQL's counterpart of SQLite's ``BEGIN IMMEDIATE``: one writer at a time.

    Every write locks the audit head row anyway to append its entry; taking that
    lock *first* makes the whole read-check-write sequence exclusive, so two
    writers cannot both see "no active token named ci" or both append a known
    issue to the same stale record (lost update under READ COMMITTED).
    """
    conn.execute(select(audit_head.c.seq).where(audit_head.c.id == 1).with_for_update())


def open_store(url: str, migrate: bool = True) -> SqlStore:
    """Open (and by default migrate) the store at ``url``."""
    normalise_url(url)  # clear error for unsupported URLs before any connection
    store = SqlStore(build_engine(url))
    if migrate:
        try:
            ensure_schema(store.engine)
        except BaseException:
            store.close()
            raise
    return store
