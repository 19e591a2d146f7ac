"""Catalog merge rules: unknowns never erase facts, newer checked dates win conflicts."""

from __future__ import annotations

from datetime import date

from turnout.domain.catalog import Catalog, CatalogEntry
from turnout.domain.catalog_merge import (
    EntryUpdate,
    effective_catalog,
    merge_entry,
    merge_updates,
    update_from_entry,
)

OLD = CatalogEntry(
    provider="openai",
    model_id="gpt-4o-2024-08-06",
    family="gpt-4o",
    pinned=True,
    released=date(2024, 8, 6),
    retires=date(2027, 1, 14),
    replacement="gpt-5.6-terra",
    price_in_per_mtok=2.5,
    price_out_per_mtok=10.0,
    source="https://developers.openai.com/api/docs/deprecations",
    checked=date(2026, 11, 25),
    note="from the deprecations page",
)


def _update(checked: date | None, **facts: object) -> EntryUpdate:
    return EntryUpdate("openai", "gpt-4o-2024-08-06", facts, checked)  # type: ignore[arg-type]


def test_a_missing_fact_never_erases_a_known_one() -> None:
    entry, changes = merge_entry(
        OLD,
        update_from_entry(
            CatalogEntry("openai", "gpt-4o-2024-08-06", "gpt-4o", True, checked=date(2026, 12, 1))
        ),
    )
    assert entry == OLD
    assert changes == ()


def test_a_newer_checked_date_wins_a_conflict() -> None:
    entry, changes = merge_entry(OLD, _update(date(2026, 12, 1), retires=date(2027, 3, 1)))
    assert entry.retires == date(2027, 3, 1)
    assert entry.checked == date(2026, 12, 1)
    assert [(c.field, c.old, c.new) for c in changes] == [
        ("retires", date(2027, 1, 14), date(2027, 3, 1)),
        ("checked", date(2026, 11, 25), date(2026, 12, 1)),
    ]


def test_an_older_checked_date_loses_a_conflict_but_fills_gaps() -> None:
    old = CatalogEntry(
        "openai",
        "gpt-4o-2024-08-06",
        "gpt-4o",
        True,
        checked=date(2026, 11, 25),
        retires=date(2027, 1, 14),
    )
    entry, changes = merge_entry(
        old, _update(date(2026, 6, 1), retires=date(2026, 12, 31), price_in_per_mtok=2.5)
    )
    assert entry.retires == date(2027, 1, 14)
    assert entry.price_in_per_mtok == 2.5
    assert entry.checked == date(2026, 11, 25)
    assert [(c.field, c.old, c.new) for c in changes] == [("price_in_per_mtok", None, 2.5)]


def test_an_update_without_a_checked_date_only_fills_gaps() -> None:
    entry, changes = merge_entry(OLD, _update(None, retires=date(2026, 12, 31)))
    assert entry == OLD
    assert changes == ()


def test_a_new_id_from_a_partial_source_says_what_is_not_known() -> None:
    update = EntryUpdate(
        "google", "gemini-9-pro-001", {"retires": date(2027, 5, 1)}, date(2026, 12, 1), "LiteLLM"
    )
    merged = merge_updates(Catalog(), [update])
    entry = merged.catalog.lookup("google", "gemini-9-pro-001")
    assert entry is not None
    assert entry.family == "gemini-9-pro-001"
    assert entry.pinned
    assert entry.released is None
    assert entry.replacement is None
    assert entry.note is not None
    assert "LiteLLM" in entry.note
    assert "released" in entry.note
    assert merged.added == 1
    assert ("retires", None, date(2027, 5, 1)) in [(c.field, c.old, c.new) for c in merged.changes]


def test_merge_lists_every_change_and_only_changed_entries() -> None:
    other = CatalogEntry("anthropic", "claude-x-1", "claude-x", True, checked=date(2026, 1, 1))
    base = Catalog.of([OLD, other])
    merged = merge_updates(
        base,
        [_update(date(2026, 12, 1), price_out_per_mtok=8.0), update_from_entry(other)],
    )
    assert [e.version_id for e in merged.changed] == ["openai/gpt-4o-2024-08-06"]
    assert [c.field for c in merged.changes] == ["price_out_per_mtok", "checked"]
    assert merged.catalog.lookup("anthropic", "claude-x-1") == other


def test_effective_catalog_lets_a_later_bundled_file_win_over_an_old_override() -> None:
    override = CatalogEntry(
        "openai",
        "gpt-4o-2024-08-06",
        "gpt-4o",
        True,
        retires=date(2026, 12, 1),
        checked=date(2026, 10, 1),
    )
    assert effective_catalog(Catalog.of([OLD]), [override]).lookup(*OLD.key) == OLD
    newer = CatalogEntry(
        "openai",
        "gpt-4o-2024-08-06",
        "gpt-4o",
        True,
        retires=date(2027, 6, 1),
        checked=date(2026, 12, 2),
    )
    found = effective_catalog(Catalog.of([OLD]), [newer]).lookup(*OLD.key)
    assert found is not None
    assert found.retires == date(2027, 6, 1)
    assert found.price_in_per_mtok == 2.5  # facts the override does not carry stay
