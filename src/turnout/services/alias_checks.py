"""The preconditions of an alias write: it exists, nobody changed it, it may serve that.

:class:`~turnout.services.aliases.AliasService` runs every change (flip, rollback,
protect, a rollout step, a policy or shadow change) through one write path. These
checks refuse a change before anything is written, each with the error and hint the
caller should see; they read the unit of work but change nothing, so they sit apart
from the write path, where the rules of what may be served are read in one place.
"""

from __future__ import annotations

from datetime import date

from turnout.domain.aliases import Alias, AliasTarget
from turnout.domain.versions import VersionStatus
from turnout.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from turnout.ports import UnitOfWork

__all__ = ["check_expected_revision", "check_servable_target", "existing_alias"]


def existing_alias(uow: UnitOfWork, name: str) -> Alias:
    """The alias ``name``; NotFound if there is none."""
    alias = uow.aliases.get(name)
    if alias is None:
        raise NotFound(f"alias '{name}' does not exist")
    return alias


def check_expected_revision(name: str, seen: int, expected: int) -> None:
    """The compare in compare-and-set: Conflict if the alias moved since the caller read it."""
    if expected != seen:
        raise Conflict(
            f"alias '{name}' is at revision {seen}, not {expected}: "
            "(it changed since it was read); re-read it and retry"
        )


def check_servable_target(
    uow: UnitOfWork,
    name: str,
    target: AliasTarget,
    protected: bool,
    allow_floating: bool,
    today: date,
) -> None:
    """Every version served must be registered, not retired, and pinned unless allowed."""
    for vid in (*target.versions(), *target.shadow_versions()):
        version = uow.versions.get(vid)
        if version is None:
            raise NotFound(
                f"version {vid} is not registered; add it first: turnout version add {vid}"
            )
        if version.status_on(today) is VersionStatus.RETIRED:
            raise InvalidInput(f"version {vid} is retired and cannot be a new target")
        if version.floating_allowed:
            if protected:
                raise PermissionDenied(
                    f"alias '{name}' is protected and may only serve pinned versions; "
                    f"{vid} is a floating id"
                )
            if not allow_floating:
                raise InvalidInput(
                    f"version {vid} is a floating id; pass --allow-floating to let "
                    f"non-protected alias '{name}' serve it"
                )
