"""PostgreSQL LISTEN on the registry's change channel, for the gateway's snapshot feed.

Every registry write runs ``pg_notify('turnout_registry', seq)`` inside its
transaction, so PostgreSQL delivers the signal at commit, to every listening
replica, within milliseconds. :class:`PgChangeListener` holds one dedicated
psycopg 3 ``AsyncConnection`` (autocommit, outside the SQLAlchemy pool: a pooled
connection would be recycled and silently drop the subscription) and implements
:class:`turnout.ports.ChangeListener`.

Reconnecting is deliberately not done here: a lost connection raises
:class:`~turnout.errors.StoreUnavailable` once, and the caller (the feed) backs
off, builds a new listener and re-checks the change marker, because whatever
was notified while nobody listened is gone. SQLite has no listener; the feed
polls :meth:`~turnout.store.SqlStore.change_marker` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import TupleRow

from turnout.errors import InvalidInput, StoreUnavailable
from turnout.store.engine import normalise_url, safe_url
from turnout.store.repositories import NOTIFY_CHANNEL

__all__ = [
    "LISTENER_APPLICATION_NAME",
    "PgChangeListener",
    "change_listener_factory",
    "listen_conninfo",
]

LISTENER_APPLICATION_NAME = "turnout-listener"
"""``application_name`` of listener connections, to spot them in ``pg_stat_activity``."""

_CONNECTION_DEFAULTS = {
    "application_name": LISTENER_APPLICATION_NAME,
    "connect_timeout": "5",
    # An idle LISTEN connection sends nothing: keepalives notice a dead peer
    # (a silent network partition) instead of waiting forever.
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}


def listen_conninfo(url: str) -> str:
    """The libpq conninfo string for a SQLAlchemy PostgreSQL URL.

    ``postgresql+psycopg://user:pw@host:port/db?sslmode=require`` becomes
    ``user=... password=... host=... port=... dbname=... sslmode=require`` plus
    listener defaults (application name, connect timeout, TCP keepalives), which
    the URL's own query parameters override.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise InvalidInput(f"LISTEN/NOTIFY needs PostgreSQL, not {safe_url(parsed)}")
    params: dict[str, str] = dict(_CONNECTION_DEFAULTS)
    for key, value in parsed.translate_connect_args(username="user", database="dbname").items():
        params[key] = str(value)
    for key, query_value in parsed.query.items():
        params[key] = query_value if isinstance(query_value, str) else ",".join(query_value)
    return make_conninfo("", **params)


def change_listener_factory(url: str) -> Callable[[], PgChangeListener] | None:
    """What a snapshot feed on ``url`` should listen with: None for SQLite (it polls)."""
    if normalise_url(url).get_backend_name() != "postgresql":
        return None
    listen_conninfo(url)  # fail on a bad URL now, not at the first reconnect

    def factory() -> PgChangeListener:
        return PgChangeListener(url)

    return factory


class PgChangeListener:
    """One LISTEN subscription on ``channel`` over a dedicated async connection.

    Life cycle: new -> connected (``connect`` or the first ``wait``) -> closed
    (``aclose`` or a lost connection). A closed listener stays closed; build a
    new one to re-subscribe.
    """

    def __init__(self, url: str, channel: str = NOTIFY_CHANNEL) -> None:
        self._conninfo = listen_conninfo(url)
        self._where = f"change feed {safe_url(normalise_url(url))}"
        self._channel = channel
        self._conn: psycopg.AsyncConnection[TupleRow] | None = None
        self._closed = False

    @property
    def connected(self) -> bool:
        return self._conn is not None

    async def connect(self) -> None:
        """Open the connection and ``LISTEN``; from now on no notification is missed."""
        if self._closed:
            raise StoreUnavailable(f"{self._where}: the listener is closed; make a new one")
        if self._conn is not None:
            return
        try:
            conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        except psycopg.Error as exc:
            self._closed = True
            raise StoreUnavailable(f"{self._where}: cannot connect ({_first_line(exc)})") from exc
        try:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
        except psycopg.Error as exc:
            self._closed = True
            await conn.close()
            raise StoreUnavailable(f"{self._where}: LISTEN failed ({_first_line(exc)})") from exc
        self._conn = conn

    async def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for a notification; True if one came.

        Every notification already received is consumed too, so a burst of writes
        wakes the caller once. Raises StoreUnavailable (and closes) if the
        connection is lost.
        """
        await self.connect()
        conn = self._conn
        assert conn is not None
        notified = False
        try:
            async with aclosing(conn.notifies(timeout=max(timeout, 0.0), stop_after=1)) as first:
                async for _ in first:
                    notified = True
            if notified:  # drain the backlog without waiting
                async with aclosing(conn.notifies(timeout=0.0)) as backlog:
                    async for _ in backlog:
                        pass
        except psycopg.Error as exc:
            await self.aclose()
            raise StoreUnavailable(f"{self._where}: connection lost ({_first_line(exc)})") from exc
        return notified

    async def aclose(self) -> None:
        """Close the connection (the server drops the subscription with it)."""
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
