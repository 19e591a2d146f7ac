"""Known provider releases: which ids are pinned, which float, when they retire.

The catalog is data (shipped as ``turnout/data/model-catalog.yaml`` and loaded at
the edge by :mod:`turnout.catalog_file`); this module only holds the values and
the lookups the pinning rule and deprecation warnings need.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

__all__ = ["FACT_FIELDS", "Catalog", "CatalogEntry"]

FACT_FIELDS: tuple[str, ...] = (
    "family",
    "pinned",
    "points_to",
    "released",
    "deprecated",
    "retires",
    "replacement",
    "price_in_per_mtok",
    "price_out_per_mtok",
    "source",
    "checked",
    "note",
)
"""The facts of an entry, beyond its key (provider, model id): what updates merge and show."""


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One provider model id and its lifecycle facts; ``None`` means not known."""

    provider: str
    model_id: str
    family: str
    pinned: bool
    points_to: str | None = None
    released: date | None = None
    deprecated: date | None = None
    retires: date | None = None
    replacement: str | None = None
    price_in_per_mtok: float | None = None
    price_out_per_mtok: float | None = None
    source: str | None = None
    checked: date | None = None
    note: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.model_id)

    @property
    def version_id(self) -> str:
        return f"{self.provider}/{self.model_id}"

    def is_retired(self, today: date) -> bool:
        return self.retires is not None and self.retires <= today


@dataclass(frozen=True)
class Catalog:
    """An immutable index of :class:`CatalogEntry` by ``(provider, model_id)``."""

    entries: tuple[CatalogEntry, ...] = ()
    _by_key: dict[tuple[str, str], CatalogEntry] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        index = {entry.key: entry for entry in self.entries}
        object.__setattr__(self, "_by_key", index)

    @classmethod
    def of(cls, entries: Iterable[CatalogEntry]) -> Catalog:
        return cls(tuple(entries))

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[CatalogEntry]:
        return iter(self.entries)

    def lookup(self, provider: str, model_id: str) -> CatalogEntry | None:
        return self._by_key.get((provider, model_id))

    def pinned_suggestions(
        self, provider: str, model_id: str, today: date | None = None, limit: int = 3
    ) -> tuple[str, ...]:
        """Pinned ids of the same family, newest first, skipping retired ones.

        The family is the catalog's when it knows the id; otherwise the id with a
        ``-latest`` suffix removed, matched as a family name or an id prefix, so
        that ``claude-3-5-sonnet-latest`` and ``gpt-4o`` both find their releases.
        """
        known = self.lookup(provider, model_id)
        stem = model_id.removesuffix("-latest").removesuffix(":latest")
        families = {known.family} if known else {stem}
        candidates = [
            entry
            for entry in self.entries
            if entry.provider == provider
            and entry.pinned
            and (entry.family in families or (known is None and entry.model_id.startswith(stem)))
            and not (today is not None and entry.is_retired(today))
        ]
        candidates.sort(key=_newest_first)
        # The release a floating alias points at today is the most useful suggestion.
        if known is not None and known.points_to:
            target = self.lookup(provider, known.points_to)
            if target is not None and target in candidates:
                candidates.remove(target)
                candidates.insert(0, target)
        return tuple(entry.version_id for entry in candidates[:limit])


def _newest_first(entry: CatalogEntry) -> tuple[int, str]:
    released = entry.released.toordinal() if entry.released else 0
    return (-released, entry.model_id)
