"""Throw-away PostgreSQL databases on the shared server (created, then dropped).

Tests never stop or reconfigure the server on 127.0.0.1:5432; each gets a
database of its own. ``TURNOUT_TEST_PG`` overrides the admin URL, and
``TURNOUT_TEST_POSTGRES=skip`` opts out (``make test`` then fails the run).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

__all__ = ["PG_ADMIN_URL", "fresh_pg_database"]

PG_ADMIN_URL = os.environ.get(
    "TURNOUT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def fresh_pg_database(prefix: str) -> Iterator[str]:
    """Create ``<prefix>_<random>``, yield its URL, and drop it (closing its sessions)."""
    if os.environ.get("TURNOUT_TEST_POSTGRES") == "skip":
        pytest.skip("TURNOUT_TEST_POSTGRES=skip")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
