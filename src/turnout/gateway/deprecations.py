"""Retirement dates of what the gateway serves: a ``/metrics`` gauge and ``/readyz`` detail.

Read from the routing snapshot the gateway already holds (never the database),
so a scrape or a readiness probe costs a pass over the registered versions.
Alerting on ``turnout_version_days_to_retirement < 30`` in Prometheus is the
point: the gauge is there for every registered version with a known date,
the readiness detail lists only the versions aliases use (the ones an outage
would hit) that retire within the warning window.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from turnout.domain.catalog import Catalog
from turnout.domain.deprecations import DEFAULT_WINDOW_DAYS, find_deprecations
from turnout.domain.ids import VersionId
from turnout.errors import InvalidInput
from turnout.gateway.metrics import GatewayMetrics
from turnout.ports import Clock
from turnout.services.snapshot import RoutingSnapshot

__all__ = ["DeprecationWatch"]


class DeprecationWatch:
    """Days to retirement of the versions in the current snapshot."""

    def __init__(
        self,
        snapshot: Callable[[], RoutingSnapshot],
        clock: Clock,
        catalog: Catalog,
        window_days: int = DEFAULT_WINDOW_DAYS,
    ) -> None:
        self._snapshot = snapshot
        self._clock = clock
        self._catalog = catalog  # replacements only: dates come with the snapshot
        self._window = window_days
        self._labelled: set[str] = set()

    def days_left(self) -> dict[str, int]:
        """Version id -> whole days until it retires (negative: already retired)."""
        today = self._clock().date()
        return {
            vid: (version.retires - today).days
            for vid, version in self._snapshot().versions.items()
            if version.retires is not None
        }

    def served(self) -> list[dict[str, object]]:
        """The ``/readyz`` detail: versions in use retiring within the window, soonest first."""
        snapshot = self._snapshot()
        own: dict[VersionId, date | None] = {}
        for text, version in snapshot.versions.items():
            try:
                own[VersionId.parse(text)] = version.retires
            except InvalidInput:  # pragma: no cover - registered ids always parse
                continue
        findings = find_deprecations(
            snapshot.targets, own, Catalog(), self._clock().date(), self._window
        )
        out: list[dict[str, object]] = []
        for finding in findings:
            data = finding.to_dict()
            served = VersionId.parse(finding.version)
            entry = self._catalog.lookup(served.provider, served.model)
            data["replacement"] = entry.replacement if entry is not None else None
            out.append(data)
        return out

    def copy_gauges(self, metrics: GatewayMetrics) -> None:
        """Set the gauge for every dated version; drop series of versions no longer listed."""
        days = self.days_left()
        for gone in self._labelled - days.keys():
            metrics.days_to_retirement.remove(gone)
        for vid, left in days.items():
            metrics.days_to_retirement.labels(version=vid).set(left)
        self._labelled = set(days)
