"""Catalog lookups and the pinned suggestions offered when a floating id is refused."""

from __future__ import annotations

from datetime import date

import pytest

from turnout.catalog_file import load_bundled_catalog
from turnout.domain.catalog import Catalog, CatalogEntry


def _entry(
    model_id: str,
    family: str,
    pinned: bool = True,
    *,
    provider: str = "acme",
    released: date | None = None,
    retires: date | None = None,
    points_to: str | None = None,
) -> CatalogEntry:
    return CatalogEntry(
        provider, model_id, family, pinned, points_to=points_to, released=released, retires=retires
    )


SMALL = Catalog.of(
    [
        _entry("chat", "chat", pinned=False, points_to="chat-2024-06-01"),
        _entry("chat-latest", "chat", pinned=False),
        _entry("chat-2024-01-01", "chat", released=date(2024, 1, 1), retires=date(2025, 1, 1)),
        _entry("chat-2024-06-01", "chat", released=date(2024, 6, 1)),
        _entry("chat-2025-02-01", "chat", released=date(2025, 2, 1)),
        _entry("chat-undated-001", "chat"),
        _entry("chat-mini-2025-03-01", "chat-mini", released=date(2025, 3, 1)),
        _entry("chat-2025-09-01", "chat", provider="other", released=date(2025, 9, 1)),
    ]
)


@pytest.fixture(scope="module")
def bundled() -> Catalog:
    return load_bundled_catalog()


def test_entry_key_version_id_and_retirement_boundary() -> None:
    entry = _entry("chat-2024-01-01", "chat", retires=date(2025, 1, 1))
    assert entry.key == ("acme", "chat-2024-01-01")
    assert entry.version_id == "acme/chat-2024-01-01"
    assert not entry.is_retired(date(2024, 12, 31))
    assert entry.is_retired(date(2025, 1, 1))
    assert not _entry("x", "x").is_retired(date(2999, 1, 1))


def test_lookup_len_and_iteration() -> None:
    assert len(SMALL) == 8
    assert [e.model_id for e in SMALL][:2] == ["chat", "chat-latest"]
    found = SMALL.lookup("acme", "chat-2024-06-01")
    assert found is not None
    assert found.released == date(2024, 6, 1)
    assert SMALL.lookup("acme", "nope") is None
    assert SMALL.lookup("nobody", "chat") is None
    assert SMALL.lookup("other", "chat-2025-09-01") is not None


def test_catalogs_compare_by_entries() -> None:
    assert Catalog.of(SMALL.entries) == SMALL
    assert Catalog.of(SMALL.entries[:-1]) != SMALL
    assert len(Catalog()) == 0


def test_suggestions_put_the_alias_target_first_then_newest() -> None:
    assert SMALL.pinned_suggestions("acme", "chat", limit=10) == (
        "acme/chat-2024-06-01",
        "acme/chat-2025-02-01",
        "acme/chat-2024-01-01",
        "acme/chat-undated-001",
    )


def test_suggestions_exclude_other_families_providers_and_floating_ids() -> None:
    suggested = SMALL.pinned_suggestions("acme", "chat-latest", limit=10)
    assert suggested[0] == "acme/chat-2025-02-01"
    assert "acme/chat-mini-2025-03-01" not in suggested
    assert "other/chat-2025-09-01" not in suggested
    assert "acme/chat" not in suggested
    assert "acme/chat-latest" not in suggested


def test_suggestions_skip_retired_and_respect_the_limit() -> None:
    on = date(2025, 6, 1)
    assert "acme/chat-2024-01-01" not in SMALL.pinned_suggestions("acme", "chat", on, limit=10)
    assert len(SMALL.pinned_suggestions("acme", "chat")) == 3
    assert SMALL.pinned_suggestions("acme", "chat", limit=1) == ("acme/chat-2024-06-01",)


def test_suggestions_for_an_unknown_id_match_by_stem() -> None:
    assert SMALL.pinned_suggestions("acme", "chat-mini-latest") == ("acme/chat-mini-2025-03-01",)
    assert SMALL.pinned_suggestions("acme", "unheard-of") == ()
    assert SMALL.pinned_suggestions("nobody", "chat") == ()


def test_bundled_aliases_point_at_pinned_releases_of_their_family(bundled: Catalog) -> None:
    checked = 0
    for entry in bundled:
        target = bundled.lookup(entry.provider, entry.points_to) if entry.points_to else None
        if target is not None:
            checked += 1
            assert not entry.pinned, entry.version_id
            assert target.pinned, target.version_id
            assert target.family == entry.family, entry.version_id
    assert checked > 20


def test_bundled_ids_are_unique_and_well_formed(bundled: Catalog) -> None:
    keys = [entry.key for entry in bundled]
    assert len(keys) == len(set(keys))
    for entry in bundled:
        assert entry.provider in {"openai", "anthropic", "google", "mistral", "xai", "deepseek"}
        assert entry.source, entry.version_id
        assert entry.checked is not None, entry.version_id
        if entry.deprecated and entry.retires:
            assert entry.deprecated <= entry.retires, entry.version_id
