"""Database engines for the two supported stores, and driver-error translation.

* SQLite (default, ``sqlite:///turnout.db``): WAL so readers never block the
  writer, a busy timeout so concurrent CLIs wait instead of failing, and write
  transactions that start with ``BEGIN IMMEDIATE`` — taking the write lock up
  front is what makes read-check-write sequences safe under concurrency.
* PostgreSQL (``postgresql+psycopg://``; ``postgres://`` and ``postgresql://``
  are accepted and mapped to psycopg 3) for many replicas.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError

from turnout.errors import Conflict, InvalidInput, StoreUnavailable, TurnoutError

__all__ = [
    "WRITE_OPTION",
    "build_engine",
    "normalise_url",
    "safe_url",
    "translate_errors",
]

WRITE_OPTION = "turnout_write"
"""Execution option marking a connection whose transaction will write."""

_SQLITE_BUSY_TIMEOUT_S = 10.0


def normalise_url(url: str) -> URL:
    """Parse a store URL; map PostgreSQL spellings to psycopg 3; refuse others."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise InvalidInput(f"database URL {url!r} is not a valid URL") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.drivername not in ("sqlite", "sqlite+pysqlite"):
            raise InvalidInput(
                f"unsupported SQLite driver {parsed.drivername!r}; use sqlite:///PATH"
            )
        return parsed
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    raise InvalidInput(
        f"unsupported database {backend!r}: use sqlite:///PATH or postgresql+psycopg://HOST/DB"
    )


def safe_url(url: URL) -> str:
    """The URL with any password hidden, safe for logs and error messages."""
    return url.render_as_string(hide_password=True)


def build_engine(url: str) -> Engine:
    """An engine configured for turnout's transaction discipline on either database."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        connect_args={"connect_timeout": 5, "application_name": "turnout"},
    )


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:":
        parent = Path(database).expanduser().resolve().parent
        if not parent.is_dir():
            raise InvalidInput(
                f"cannot create SQLite database {database!r}: {parent} does not exist"
            )
    engine = create_engine(url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let us issue BEGIN ourselves: pysqlite's implicit BEGIN is DEFERRED.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


@contextlib.contextmanager
def translate_errors(where: str) -> Iterator[None]:
    """Convert driver errors into the turnout tree, once, at the store boundary."""
    try:
        yield
    except TurnoutError:
        raise
    except IntegrityError as exc:
        raise Conflict(f"{where}: a concurrent write or a duplicate ({_first_line(exc)})") from exc
    except OperationalError as exc:
        text = _first_line(exc)
        if "locked" in text or "busy" in text:
            raise StoreUnavailable(f"{where}: the database is locked by another writer") from exc
        if _missing_table(text):
            raise StoreUnavailable(f"{where}: the database is not initialised ({text})") from exc
        raise StoreUnavailable(f"{where}: the database is unreachable ({text})") from exc
    except DBAPIError as exc:
        text = _first_line(exc)
        if _missing_table(text):  # PostgreSQL reports it as a ProgrammingError
            raise StoreUnavailable(f"{where}: the database is not initialised ({text})") from exc
        raise StoreUnavailable(f"{where}: database error ({text})") from exc
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"{where}: {_first_line(exc)}") from exc


def _missing_table(text: str) -> bool:
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def _first_line(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
