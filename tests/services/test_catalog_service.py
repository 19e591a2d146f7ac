"""Catalog updates through the registry: stored, audited, seen by every process."""

from __future__ import annotations

from datetime import date

import pytest
from tests.services.conftest import OpenRegistry

from turnout.domain.access import LOCAL_ADMIN, Principal, Role
from turnout.domain.catalog_merge import EntryUpdate
from turnout.errors import InvalidInput, NotFound, PermissionDenied
from turnout.services.registry import Registry

GPT = ("openai", "gpt-4o-2024-08-06")


def test_update_stores_audits_and_is_seen_by_another_process(
    registry: Registry, open_registry: OpenRegistry
) -> None:
    bundled = registry.catalog.show("openai/gpt-4o-2024-08-06")
    merge = registry.catalog.update(
        LOCAL_ADMIN, [EntryUpdate(*GPT, {"retires": date(2027, 6, 1)}, date(2026, 12, 1))], "f.yaml"
    )
    assert [(c.field, c.new) for c in merge.changes] == [
        ("retires", date(2027, 6, 1)),
        ("checked", date(2026, 12, 1)),
    ]
    (entry,) = registry.audit.entries(LOCAL_ADMIN, limit=1)
    assert entry.action == "catalog.update"
    assert entry.subject == "catalog"
    assert entry.detail["entries"] == 1
    other = open_registry()
    seen = other.catalog.show("openai/gpt-4o-2024-08-06")
    assert seen.retires == date(2027, 6, 1)
    assert seen.price_in_per_mtok == bundled.price_in_per_mtok  # nothing erased
    # open_registry wires the effective catalog into every rule
    found = other.ctx.catalog.lookup(*GPT)
    assert found is not None
    assert found.retires == date(2027, 6, 1)


def test_dry_run_and_an_older_source_write_nothing(registry: Registry) -> None:
    before = registry.audit.entries(LOCAL_ADMIN)
    update = EntryUpdate(*GPT, {"retires": date(2027, 6, 1)}, date(2026, 12, 1))
    assert not registry.catalog.update(LOCAL_ADMIN, [update], "f", dry_run=True).empty
    stale = EntryUpdate(*GPT, {"retires": date(2027, 6, 1)}, date(2025, 1, 1))
    assert registry.catalog.update(LOCAL_ADMIN, [stale], "f").empty
    assert registry.audit.entries(LOCAL_ADMIN) == before
    assert registry.catalog.show("openai/gpt-4o-2024-08-06").retires != date(2027, 6, 1)


def test_a_viewer_may_preview_but_not_update(registry: Registry) -> None:
    viewer = Principal("vera", Role.VIEWER)
    update = EntryUpdate(*GPT, {"retires": date(2027, 6, 1)}, date(2026, 12, 1))
    registry.catalog.update(viewer, [update], "f", dry_run=True)
    with pytest.raises(PermissionDenied):
        registry.catalog.update(viewer, [update], "f")


def test_list_filters_by_provider_and_retirement_window(registry: Registry) -> None:
    # the fake clock says 2026-01-15
    soon = registry.catalog.list(retiring_within=60)
    assert soon
    assert all(date(2026, 1, 15) <= e.retires <= date(2026, 3, 16) for e in soon if e.retires)
    assert [e.retires for e in soon] == sorted(e.retires for e in soon if e.retires)
    assert {e.provider for e in registry.catalog.list(provider="anthropic")} == {"anthropic"}
    with pytest.raises(InvalidInput):
        registry.catalog.list(retiring_within=-1)
    with pytest.raises(NotFound):
        registry.catalog.show("openai/no-such-model-2020-01-01")
