"""The model catalog as the registry sees it: the bundled file plus stored updates.

``turnout catalog update`` merges a newer file into the registry's
``catalog_overrides`` so every process on the registry uses the same facts
(pinning rules, prices, retirement dates). The merge rules live in
:mod:`turnout.domain.catalog_merge`; this service reads the overrides, applies
the merge, writes the changed entries and one audit entry in one transaction.

Reads merge the stored overrides afresh each time: a long-running gateway
started before an update still answers ``catalog show`` and ``deprecations``
with the new facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from turnout.domain.access import Operation, Principal, authorize
from turnout.domain.audit import JsonValue
from turnout.domain.catalog import Catalog, CatalogEntry
from turnout.domain.catalog_merge import CatalogMerge, EntryUpdate, effective_catalog, merge_updates
from turnout.domain.ids import VersionId
from turnout.errors import InvalidInput, NotFound
from turnout.ports import UnitOfWork
from turnout.services.context import ServiceContext, record

__all__ = ["CatalogService"]


class CatalogService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def effective(self) -> Catalog:
        """The catalog in force now: the context's with the stored overrides merged in."""
        with self._ctx.store.unit_of_work() as uow:
            return self.effective_in(uow)

    def effective_in(self, uow: UnitOfWork) -> Catalog:
        return effective_catalog(self._ctx.catalog, uow.catalog.overrides())

    def show(self, version_id: str) -> CatalogEntry:
        vid = VersionId.parse(version_id)
        entry = self.effective().lookup(vid.provider, vid.model)
        if entry is None:
            raise NotFound(f"the catalog does not list {vid}")
        return entry

    def list(
        self, provider: str | None = None, retiring_within: int | None = None
    ) -> list[CatalogEntry]:
        """Entries, optionally one provider's, optionally only those retiring in the next days."""
        if retiring_within is not None and retiring_within < 0:
            raise InvalidInput(f"--retiring-within must be 0 or more days, not {retiring_within}")
        today = self._ctx.today()
        entries = list(self.effective())
        if provider is not None:
            entries = [entry for entry in entries if entry.provider == provider]
        if retiring_within is not None:
            until = today + timedelta(days=retiring_within)
            entries = [
                entry
                for entry in entries
                if entry.retires is not None and today <= entry.retires <= until
            ]
            entries.sort(key=lambda entry: (entry.retires or date.max, entry.version_id))
        return entries

    def update(
        self,
        principal: Principal,
        updates: Sequence[EntryUpdate],
        source: str,
        dry_run: bool = False,
    ) -> CatalogMerge:
        """Merge ``updates`` into the effective catalog; store and audit what changed.

        With ``dry_run`` the diff is computed the same way and nothing is written.
        Updating the catalog changes which ids count as pinned for everyone, so it
        needs the same role as applying a config file.
        """
        authorize(principal, Operation.READ if dry_run else Operation.APPLY_CONFIG)
        with self._ctx.store.unit_of_work(write=not dry_run) as uow:
            merge = merge_updates(self.effective_in(uow), updates)
            if dry_run or merge.empty:
                return merge
            now = self._ctx.now()
            for entry in merge.changed:
                uow.catalog.put(entry, now, principal.name)
            detail: dict[str, JsonValue] = {
                "source": source,
                "entries": len(merge.changed),
                "added": merge.added,
                "changes": [change.to_dict() for change in merge.changes],
            }
            record(uow, now, principal, "catalog.update", "catalog", detail)
        return merge
