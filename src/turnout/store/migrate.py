"""Apply Alembic migrations on start, cheaply when already current.

Every turnout process calls :func:`ensure_schema` before first use. Checking the
stamped revision costs one query; the Alembic machinery is only imported when an
upgrade is needed. On PostgreSQL an advisory lock keeps replicas that start
together from migrating at the same time.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, text

from turnout.store.engine import WRITE_OPTION, translate_errors

__all__ = ["HEAD_REVISION", "ensure_schema", "stamped_revision"]

HEAD_REVISION = "0008"
"""The newest migration; bump it with every file added to ``migrations/versions``."""

_MIGRATION_LOCK_KEY = 0x7475726E  # "turn"
_SCRIPTS = Path(__file__).parent / "migrations"


def stamped_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, or ``None`` if it is empty."""
    with translate_errors("reading the schema revision"), engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return str(value) if value is not None else None


def ensure_schema(engine: Engine) -> bool:
    """Bring the schema to :data:`HEAD_REVISION`; return whether anything ran."""
    if stamped_revision(engine) == HEAD_REVISION:
        return False
    from alembic import command
    from alembic.config import Config

    with translate_errors("migrating the database"), engine.connect() as raw:
        conn = raw.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            config = Config()
            config.set_main_option("script_location", str(_SCRIPTS))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    return True
