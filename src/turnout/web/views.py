"""View models: registry values turned into what a page shows, with no HTML in them.

Kept apart from the routes so the logic (which versions an alias may serve, how
healthy each is, who may press which button) is plain, typed Python that the
templates only lay out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from turnout.domain.access import Principal, authorize_alias_change
from turnout.domain.aliases import Alias, AliasAction, AliasRevision
from turnout.errors import PermissionDenied
from turnout.services.health import HealthReport, VersionUse

__all__ = [
    "AliasRow",
    "RevisionRow",
    "VersionHealth",
    "alias_row",
    "may_change_alias",
    "revision_row",
    "uses_by_version",
]


@dataclass(frozen=True, slots=True)
class VersionHealth:
    """One version an alias may serve, in which role, and how it is doing."""

    version: str
    role: str  # "primary", "canary 10%", "fallback 1", "shadow 5%"
    requests: int | None  # None: not served (shadows), so no passive health
    error_rate: float | None
    p95_ms: float | None
    breaker: str  # "closed", "open", "half_open" (worst over replicas) or "-"

    @property
    def state(self) -> str:
        """A one-word badge: open (a breaker is not closed), idle (no traffic) or ok."""
        if self.breaker not in ("closed", "-"):
            return "open"
        if not self.requests:
            return "idle"
        return "ok"


@dataclass(frozen=True, slots=True)
class AliasRow:
    name: str
    revision: int
    protected: bool
    updated_at: datetime | None
    updated_by: str
    canary_pct: float | None
    versions: tuple[VersionHealth, ...]


@dataclass(frozen=True, slots=True)
class RevisionRow:
    revision: int
    at: datetime
    actor: str
    action: str
    before: str
    after: str
    protected: bool
    reason: str


def uses_by_version(report: HealthReport) -> dict[str, VersionUse]:
    return {use.version: use for use in report.versions}


def _health(version: str, role: str, uses: Mapping[str, VersionUse]) -> VersionHealth:
    use = uses.get(version)
    if use is None:
        return VersionHealth(version, role, None, None, None, "-")
    states = [event.state for event in use.breakers]
    breaker = next((s for s in ("open", "half_open") if s in states), "closed" if states else "-")
    traffic = use.traffic
    return VersionHealth(
        version, role, traffic.requests, traffic.error_rate, traffic.p95_ms, breaker
    )


def alias_row(alias: Alias, uses: Mapping[str, VersionUse]) -> AliasRow:
    """An alias with every version it may serve (primary, canary, fallbacks, shadows)."""
    target = alias.target
    rows = [_health(str(target.version), "primary", uses)]
    canary_pct = None
    if target.canary is not None:
        canary_pct = target.canary.weight / 100
        rows.append(_health(str(target.canary.version), f"canary {canary_pct:g}%", uses))
    rows.extend(
        _health(str(fallback), f"fallback {i}", uses)
        for i, fallback in enumerate(target.fallbacks, start=1)
    )
    rows.extend(
        VersionHealth(str(s.candidate), f"shadow {s.sample * 100:g}%", None, None, None, "-")
        for s in target.shadows
    )
    return AliasRow(
        alias.name,
        alias.revision,
        alias.protected,
        alias.updated_at,
        alias.updated_by,
        canary_pct,
        tuple(rows),
    )


def revision_row(revision: AliasRevision) -> RevisionRow:
    action = revision.action.value
    if revision.action is AliasAction.ROLLBACK and revision.restored_from is not None:
        action = f"rollback to {revision.restored_from}"
    return RevisionRow(
        revision.revision,
        revision.created_at,
        revision.actor,
        action,
        revision.previous.describe() if revision.previous is not None else "-",
        revision.target.describe(),
        revision.protected,
        revision.reason or "",
    )


def may_change_alias(principal: Principal, alias: Alias) -> bool:
    """Whether ``principal``'s role may change ``alias`` (the API's rule, asked, not copied).

    A reason is supplied here because the form asks for one; only the role decides.
    """
    try:
        authorize_alias_change(principal, alias.name, alias.protected, "reason given in the form")
    except PermissionDenied:
        return False
    return True
