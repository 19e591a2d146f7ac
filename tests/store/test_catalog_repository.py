"""``uow.catalog``: overrides round-trip, notices are claimed once (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from turnout.domain.catalog import CatalogEntry
from turnout.store import SqlStore

T0 = datetime(2026, 1, 15, 9, tzinfo=UTC)
ENTRY = CatalogEntry(
    "openai",
    "gpt-x-2026-01-01",
    "gpt-x",
    True,
    released=date(2026, 1, 1),
    retires=date(2027, 1, 1),
    price_in_per_mtok=1.25,
    source="https://example.com",
    checked=date(2026, 1, 10),
    note="a note",
)


def test_overrides_round_trip_and_replace(store: SqlStore) -> None:
    with store.unit_of_work(write=True) as uow:
        uow.catalog.put(ENTRY, T0, "ana")
    with store.unit_of_work() as uow:
        assert uow.catalog.overrides() == [ENTRY]
    changed = replace(ENTRY, retires=date(2027, 6, 1), note=None)
    with store.unit_of_work(write=True) as uow:
        uow.catalog.put(changed, T0, "ben")
    with store.unit_of_work() as uow:
        assert uow.catalog.overrides() == [changed]


def test_a_notice_is_claimed_once_per_version_threshold_and_date(store: SqlStore) -> None:
    with store.unit_of_work(write=True) as uow:
        assert uow.catalog.claim_notice("sim/a-001", 30, date(2026, 2, 1), T0)
        assert not uow.catalog.claim_notice("sim/a-001", 30, date(2026, 2, 1), T0)
        assert uow.catalog.claim_notice("sim/a-001", 7, date(2026, 2, 1), T0)
        assert uow.catalog.claim_notice("sim/a-001", 30, date(2026, 5, 1), T0)  # a moved date
    with store.unit_of_work(write=True) as uow:
        assert not uow.catalog.claim_notice("sim/a-001", 7, date(2026, 2, 1), T0)
        assert len(uow.catalog.notices()) == 3
