"""Which process runs the rollout controller: one at a time, whatever the replicas.

PostgreSQL: a session-level advisory lock held on a dedicated connection. The
lock lives exactly as long as that connection, so a process that dies or loses
its network releases it at once, with no lease to expire. SQLite (one machine,
possibly several processes on one file): a lease row renewed on every look and
taken over once it has expired.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from turnout.ports import Clock, LeaderLock
from turnout.store.engine import WRITE_OPTION
from turnout.store.schema import controller_lease

__all__ = ["CONTROLLER_LOCK_KEY", "LeaseLock", "PgAdvisoryLock", "leader_lock"]

log = logging.getLogger(__name__)

CONTROLLER_LOCK_KEY = 0x7475726E6F7574  # "turnout" in ASCII: one key per database
_LEASE_NAME = "rollout-controller"


class PgAdvisoryLock:
    def __init__(self, engine: Engine, key: int = CONTROLLER_LOCK_KEY) -> None:
        self._engine = engine
        self._key = key
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        try:
            if self._conn is not None:
                self._conn.execute(text("SELECT 1"))  # still connected = still held
                return True
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar()
            if got:
                self._conn = conn
                return True
            conn.close()
            return False
        except SQLAlchemyError as exc:
            log.warning("controller lock: store unreachable (%s); not acting", type(exc).__name__)
            self._drop()
            return False

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                conn.invalidate()  # never return a connection holding the lock to the pool

    def release(self) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            conn.close()
            self._conn = None
        except SQLAlchemyError:
            self._drop()


class LeaseLock:
    """A row (name, holder, expires_at); the holder renews it, others wait it out."""

    def __init__(
        self, engine: Engine, holder: str, clock: Clock, ttl: timedelta = timedelta(seconds=15)
    ) -> None:
        self._engine = engine
        self._holder = holder
        self._clock = clock
        self._ttl = ttl

    def acquire(self) -> bool:
        now = self._clock()
        try:
            with self._engine.connect() as raw:
                conn = raw.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    return self._take(conn, now)
        except SQLAlchemyError as exc:
            log.warning("controller lease: store unreachable (%s); not acting", type(exc).__name__)
            return False

    def _take(self, conn: Connection, now: datetime) -> bool:
        row = conn.execute(
            select(controller_lease).where(controller_lease.c.name == _LEASE_NAME)
        ).first()
        expires = now + self._ttl
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(controller_lease).values(
                            name=_LEASE_NAME, holder=self._holder, expires_at=expires
                        )
                    )
            except IntegrityError:
                return False
            return True
        if row.holder != self._holder and row.expires_at > now:
            return False
        conn.execute(
            update(controller_lease)
            .where(controller_lease.c.name == _LEASE_NAME)
            .values(holder=self._holder, expires_at=expires)
        )
        return True

    def release(self) -> None:
        try:
            with self._engine.connect() as raw:
                conn = raw.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    conn.execute(
                        delete(controller_lease).where(
                            controller_lease.c.name == _LEASE_NAME,
                            controller_lease.c.holder == self._holder,
                        )
                    )
        except SQLAlchemyError:
            pass  # the lease expires by itself


def leader_lock(engine: Engine, holder: str, clock: Clock) -> LeaderLock:
    """The right lock for the engine's database."""
    if engine.dialect.name == "postgresql":
        return PgAdvisoryLock(engine)
    return LeaseLock(engine, holder, clock)
