"""Merging catalog updates: newer facts win, unknowns never erase what is known.

A catalog goes stale (providers move shut-off dates, re-point aliases, change
prices), so ``turnout catalog update`` folds a newer file into the registry. The
rules are deliberately conservative, because a wrong retirement date silences
the warning that would have saved an outage:

* an update never erases a known fact with ``None`` (a source that does not
  mention a field says nothing about it);
* when both sides know a field and disagree, the side checked more recently
  wins (ties go to the update: it was imported on purpose); an update with no
  ``checked`` date only fills gaps;
* every field that changes is reported, so the operator sees the diff.

The *effective* catalog is the bundled file with the stored overrides merged
over it by the same rules, so a newer turnout release whose bundled file was
checked later than an old override is not shadowed by it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date

from turnout.domain.audit import JsonValue
from turnout.domain.catalog import Catalog, CatalogEntry
from turnout.domain.ids import VersionId, classify_pinning

__all__ = [
    "FACT_FIELDS",
    "CatalogMerge",
    "EntryUpdate",
    "FactValue",
    "FieldChange",
    "effective_catalog",
    "merge_entry",
    "merge_updates",
    "update_from_entry",
]

FactValue = str | bool | float | date
"""A known catalog fact: text, the pinned flag, a price or a date."""

FACT_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(CatalogEntry) if f.name not in ("provider", "model_id", "checked")
)
"""The fields an update may assert, in the catalog file's order."""


@dataclass(frozen=True, slots=True)
class EntryUpdate:
    """What one source asserts about one model id: only the facts it knows.

    ``facts`` maps field names of :data:`FACT_FIELDS` to non-null values; a field
    that is absent is unknown to this source. ``origin`` names the source in the
    note of an entry it creates (``"LiteLLM"``).
    """

    provider: str
    model_id: str
    facts: Mapping[str, FactValue]
    checked: date | None = None
    origin: str = "catalog file"

    @property
    def version_id(self) -> str:
        return f"{self.provider}/{self.model_id}"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of one entry that an update changed (``old`` None: it was unknown)."""

    version_id: str
    field: str
    old: FactValue | None
    new: FactValue | None

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "id": self.version_id,
            "field": self.field,
            "old": _plain(self.old),
            "new": _plain(self.new),
        }


@dataclass(frozen=True, slots=True)
class CatalogMerge:
    """The result of merging updates: the new catalog and what changed in it."""

    catalog: Catalog
    changed: tuple[CatalogEntry, ...]  # every entry that is new or differs, merged
    changes: tuple[FieldChange, ...]
    added: int

    @property
    def empty(self) -> bool:
        return not self.changes


def update_from_entry(entry: CatalogEntry, origin: str = "catalog file") -> EntryUpdate:
    """An update asserting every non-null field of ``entry`` (turnout's own format)."""
    facts = {name: value for name in FACT_FIELDS if (value := getattr(entry, name)) is not None}
    return EntryUpdate(entry.provider, entry.model_id, facts, entry.checked, origin)


def merge_entry(
    old: CatalogEntry | None, update: EntryUpdate
) -> tuple[CatalogEntry, tuple[FieldChange, ...]]:
    """``old`` with ``update`` merged in by the module's rules, and the fields that changed."""
    if old is None:
        entry = _new_entry(update)
        return entry, tuple(FieldChange(update.version_id, n, None, v) for n, v in _known(entry))
    update_wins = update.checked is not None and (
        old.checked is None or update.checked >= old.checked
    )
    values: dict[str, object] = {}
    changes: list[FieldChange] = []
    for name in FACT_FIELDS:
        known = getattr(old, name)
        offered = update.facts.get(name)
        if offered is None or offered == known:
            continue
        if known is None or update_wins:
            values[name] = offered
            changes.append(FieldChange(update.version_id, name, known, offered))
    checked = _later(old.checked, update.checked)
    if changes and checked != old.checked:
        values["checked"] = checked
        changes.append(FieldChange(update.version_id, "checked", old.checked, checked))
    if not values:
        return old, ()
    return replace(old, **values), tuple(changes)  # type: ignore[arg-type]


def merge_updates(base: Catalog, updates: Sequence[EntryUpdate]) -> CatalogMerge:
    """Fold ``updates`` (in order) into ``base``; entries keep the base's order, new ones last."""
    merged: dict[tuple[str, str], CatalogEntry] = {entry.key: entry for entry in base}
    changed: dict[tuple[str, str], CatalogEntry] = {}
    changes: list[FieldChange] = []
    added = 0
    for update in updates:
        key = (update.provider, update.model_id)
        old = merged.get(key)
        entry, delta = merge_entry(old, update)
        if not delta:
            continue
        if old is None and key not in changed:
            added += 1
        merged[key] = changed[key] = entry
        changes.extend(delta)
    return CatalogMerge(Catalog.of(merged.values()), tuple(changed.values()), tuple(changes), added)


def effective_catalog(bundled: Catalog, overrides: Iterable[CatalogEntry]) -> Catalog:
    """The catalog every rule should use: ``bundled`` with the stored ``overrides`` merged in."""
    stored = [update_from_entry(entry, "stored override") for entry in overrides]
    if not stored:
        return bundled
    return merge_updates(bundled, stored).catalog


def _new_entry(update: EntryUpdate) -> CatalogEntry:
    """An entry for an id the catalog does not know, holding only what the update says.

    Family and pinned status are required fields; a source that does not give
    them (LiteLLM) gets the id as a family of its own and turnout's id rule for
    unknown ids (pinned only with a date or revision number), and the note says so.
    """
    facts = dict(update.facts)
    missing = [name for name in ("family", "pinned") if name not in facts]
    if "family" not in facts:
        facts["family"] = update.model_id
    if "pinned" not in facts:
        verdict = classify_pinning(VersionId(update.provider, update.model_id), Catalog())
        facts["pinned"] = verdict.pinned
    if missing and "note" not in facts:
        unknown = ", ".join(name for name in FACT_FIELDS if name not in update.facts)
        facts["note"] = (
            f"Imported from {update.origin}; not known: {unknown}. "
            f"{' and '.join(missing)} set by turnout's rule for unknown ids, not by a source."
        )
    entry = CatalogEntry(
        provider=update.provider,
        model_id=update.model_id,
        family=str(facts.pop("family")),
        pinned=bool(facts.pop("pinned")),
        checked=update.checked,
    )
    return replace(entry, **facts)  # type: ignore[arg-type]


def _known(entry: CatalogEntry) -> list[tuple[str, FactValue]]:
    names = (*FACT_FIELDS, "checked")
    return [(name, value) for name in names if (value := getattr(entry, name)) is not None]


def _later(a: date | None, b: date | None) -> date | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def _plain(value: FactValue | None) -> str | bool | float | None:
    return value.isoformat() if isinstance(value, date) else value
