"""Persistence: SQLAlchemy schema, repositories, migrations. Nothing else imports SQL."""

from turnout.store.sql_store import SqlStore, open_store

__all__ = ["SqlStore", "open_store"]
