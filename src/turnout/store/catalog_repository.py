"""Catalog overrides and sent deprecation notices in SQL (``uow.catalog``).

An override row is a whole merged :class:`CatalogEntry`, written in the
caller's transaction with the audit entry of the update that produced it.
A notice row is claimed with ``INSERT ... ON CONFLICT DO NOTHING``: of two
controllers deciding to send the same notice, exactly one inserts the row, and
only that one sends.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, select
from sqlalchemy.dialects import postgresql, sqlite

from turnout.domain.catalog import FACT_FIELDS, CatalogEntry
from turnout.store.schema import catalog_overrides, deprecation_notices

__all__ = ["SqlCatalog"]

_FIELDS = FACT_FIELDS


def _entry_from_row(row: RowMapping) -> CatalogEntry:
    return CatalogEntry(
        provider=row["provider"], model_id=row["model_id"], **{name: row[name] for name in _FIELDS}
    )


class SqlCatalog:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def overrides(self) -> list[CatalogEntry]:
        query = select(catalog_overrides).order_by(
            catalog_overrides.c.provider, catalog_overrides.c.model_id
        )
        return [_entry_from_row(row._mapping) for row in self._conn.execute(query)]

    def put(self, entry: CatalogEntry, at: datetime, actor: str) -> None:
        values: dict[str, Any] = {name: getattr(entry, name) for name in _FIELDS}
        values |= {"updated_at": at, "updated_by": actor}
        key = {"provider": entry.provider, "model_id": entry.model_id}
        insert = self._insert(catalog_overrides).values(**key, **values)
        self._conn.execute(insert.on_conflict_do_update(index_elements=list(key), set_=values))

    def claim_notice(self, version: str, threshold_days: int, retires: date, at: datetime) -> bool:
        row = {
            "version": version,
            "threshold_days": threshold_days,
            "retires": retires,
            "sent_at": at,
        }
        statement = (
            self._insert(deprecation_notices)
            .values(**row)
            .on_conflict_do_nothing()
            .returning(deprecation_notices.c.version)  # rowcount is -1 here on psycopg
        )
        return self._conn.execute(statement).first() is not None

    def notices(self) -> list[tuple[str, int, date]]:
        query = select(
            deprecation_notices.c.version,
            deprecation_notices.c.threshold_days,
            deprecation_notices.c.retires,
        ).order_by(deprecation_notices.c.version, deprecation_notices.c.threshold_days)
        return [(row.version, row.threshold_days, row.retires) for row in self._conn.execute(query)]

    def _insert(self, table: Any) -> Any:
        """The dialect's INSERT, which has ``ON CONFLICT`` (both SQLite and PostgreSQL do)."""
        if self._conn.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)
