"""Which versions in use retire soon: the rule behind every deprecation warning.

Providers shut pinned releases off on a date they announce months ahead; the
announcement is easy to miss and the outage is not. Every warning turnout gives
(``turnout deprecations``, ``plan``/``apply``, ``alias set``, ``/metrics``,
``/readyz``, webhooks) comes from :func:`find_deprecations`, so they agree.

A version is *in use* when an alias serves it as primary, keeps it as a
fallback, sends it an active rollout's canary traffic, or copies requests to it
as a shadow candidate. Its retirement date is the version's own (set by hand or
copied from the catalog when it was registered) if it has one, else the catalog's.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from turnout.domain.aliases import AliasTarget
from turnout.domain.catalog import Catalog
from turnout.domain.ids import VersionId

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "NOTICE_THRESHOLDS",
    "Finding",
    "Use",
    "UseRole",
    "crossed_thresholds",
    "find_deprecations",
    "retirement_of",
    "uses_by_version",
]

DEFAULT_WINDOW_DAYS = 90
"""How far ahead warnings look unless told otherwise."""

NOTICE_THRESHOLDS: tuple[int, ...] = (90, 30, 7)
"""Days before retirement at which a webhook notice goes out, once each."""


class UseRole(enum.StrEnum):
    """How an alias uses a version."""

    PRIMARY = "primary"
    CANARY = "canary"
    FALLBACK = "fallback"
    SHADOW = "shadow"


@dataclass(frozen=True, slots=True, order=True)
class Use:
    """One alias's use of a version."""

    alias: str
    role: UseRole

    def describe(self) -> str:
        return f"{self.alias} ({self.role.value})"


@dataclass(frozen=True, slots=True)
class Finding:
    """A version in use that retires within the window (or already has)."""

    version: str
    retires: date
    days_left: int  # negative once retired
    uses: tuple[Use, ...]
    replacement: str | None = None
    source: str = "catalog"  # "version" (its own record) or "catalog"

    @property
    def retired(self) -> bool:
        return self.days_left <= 0

    def describe(self) -> str:
        """One warning line, as the CLI prints it."""
        when = (
            f"retired on {self.retires.isoformat()} ({-self.days_left} days ago)"
            if self.days_left < 0
            else f"retires on {self.retires.isoformat()} ({self.days_left} days left)"
        )
        used = ", ".join(use.describe() for use in self.uses)
        hint = f"; replacement: {self.replacement}" if self.replacement else ""
        return f"{self.version} {when}; used by {used}{hint}"

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "retires": self.retires.isoformat(),
            "days_left": self.days_left,
            "retired": self.retired,
            "used_by": [{"alias": u.alias, "role": u.role.value} for u in self.uses],
            "replacement": self.replacement,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """The inverse of :meth:`to_dict` (the SDK over HTTP decodes the API's answer)."""
        uses = tuple(Use(str(u["alias"]), UseRole(u["role"])) for u in data["used_by"])
        replacement = data.get("replacement")
        return cls(
            str(data["version"]),
            date.fromisoformat(str(data["retires"])),
            int(data["days_left"]),
            uses,
            str(replacement) if replacement is not None else None,
            str(data.get("source", "catalog")),
        )


def uses_by_version(targets: Mapping[str, AliasTarget]) -> dict[VersionId, tuple[Use, ...]]:
    """Every version the alias ``targets`` use, with who uses it and how (sorted)."""
    found: dict[VersionId, set[Use]] = {}
    for alias, target in targets.items():
        pairs: list[tuple[VersionId, UseRole]] = [(target.version, UseRole.PRIMARY)]
        if target.canary is not None:
            pairs.append((target.canary.version, UseRole.CANARY))
        pairs += [(vid, UseRole.FALLBACK) for vid in target.fallbacks]
        pairs += [(vid, UseRole.SHADOW) for vid in target.shadow_versions()]
        for vid, role in pairs:
            found.setdefault(vid, set()).add(Use(alias, role))
    return {vid: tuple(sorted(uses)) for vid, uses in found.items()}


def retirement_of(
    vid: VersionId, own: date | None, catalog: Catalog
) -> tuple[date | None, str | None]:
    """The retirement date of ``vid`` and where it came from (``version``/``catalog``)."""
    if own is not None:
        return own, "version"
    entry = catalog.lookup(vid.provider, vid.model)
    if entry is not None and entry.retires is not None:
        return entry.retires, "catalog"
    return None, None


def find_deprecations(
    targets: Mapping[str, AliasTarget],
    own_dates: Mapping[VersionId, date | None] | Callable[[VersionId], date | None],
    catalog: Catalog,
    today: date,
    within_days: int = DEFAULT_WINDOW_DAYS,
) -> list[Finding]:
    """Versions in use that retire on or before ``today + within_days``, soonest first.

    ``own_dates`` gives each version's own retirement date (a mapping of the
    registered versions, or a function); the catalog fills in where it is None.
    """
    lookup = own_dates.get if isinstance(own_dates, Mapping) else own_dates
    findings: list[Finding] = []
    for vid, uses in uses_by_version(targets).items():
        retires, source = retirement_of(vid, lookup(vid), catalog)
        if retires is None or source is None:
            continue
        days_left = (retires - today).days
        if days_left > within_days:
            continue
        entry = catalog.lookup(vid.provider, vid.model)
        replacement = entry.replacement if entry is not None else None
        findings.append(Finding(str(vid), retires, days_left, uses, replacement, source))
    findings.sort(key=lambda f: (f.days_left, f.version))
    return findings


def crossed_thresholds(days_left: int, thresholds: Iterable[int] = NOTICE_THRESHOLDS) -> list[int]:
    """The notice thresholds a version ``days_left`` from retirement has reached, widest first."""
    return sorted((t for t in thresholds if days_left <= t), reverse=True)
