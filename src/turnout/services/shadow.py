"""Shadow testing's use cases: start and stop candidates, see what they have collected.

Starting or stopping a shadow is an alias revision (action ``shadow``) written
through :class:`~turnout.services.aliases.AliasService`, so it has the same
rules as a flip — the candidate must be registered, pinned and not retired; a
protected alias needs deployer and a reason — the same compare-and-set, the
same audit entry, and it reaches every gateway replica through the change feed.
What is *served* never changes: a shadow revision keeps the target's version,
fallbacks and canary as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from turnout.domain.access import Principal, authorize_alias_change
from turnout.domain.aliases import AliasAction
from turnout.domain.ids import VersionId, require_pinned
from turnout.domain.shadow import ShadowCount, ShadowPair, ShadowPolicy
from turnout.errors import InvalidInput, NotFound
from turnout.services.aliases import AliasChange, AliasService
from turnout.services.context import ServiceContext

__all__ = ["ShadowService", "ShadowStatus"]


@dataclass(frozen=True, slots=True)
class ShadowStatus:
    """An alias's shadow candidates now, and the pairs each has collected."""

    alias: str
    version: str  # the primary (stable) version served
    policies: tuple[ShadowPolicy, ...]
    counts: tuple[ShadowCount, ...]  # in the window asked for, one per candidate with pairs
    since: datetime | None

    def to_dict(self) -> dict[str, object]:
        counts = {c.candidate: c for c in self.counts}
        candidates = [str(p.candidate) for p in self.policies]
        candidates += [name for name in counts if name not in candidates]  # stopped ones
        rows = []
        for name in candidates:
            policy = next((p for p in self.policies if str(p.candidate) == name), None)
            count = counts.get(name)
            rows.append(
                {
                    "candidate": name,
                    "active": policy is not None,
                    "policy": policy.to_dict() if policy is not None else None,
                    "pairs": count.pairs if count else 0,
                    "candidate_errors": count.candidate_errors if count else 0,
                    "primary_errors": count.primary_errors if count else 0,
                    "last_pair_at": count.last_at.isoformat() if count and count.last_at else None,
                }
            )
        return {
            "alias": self.alias,
            "version": self.version,
            "since": self.since.isoformat() if self.since else None,
            "candidates": rows,
        }


class ShadowService:
    def __init__(self, ctx: ServiceContext, aliases: AliasService) -> None:
        self._ctx = ctx
        self._aliases = aliases

    def start(
        self,
        principal: Principal,
        alias: str,
        candidate: str,
        sample: float = 0.1,
        max_rps: float | None = None,
        max_cost_per_day: float | None = None,
        reason: str | None = None,
    ) -> AliasChange:
        """Shadow ``alias`` with ``candidate`` (or change an existing shadow's policy)."""
        vid = VersionId.parse(candidate)
        require_pinned(vid, self._ctx.catalog)  # a floating candidate compares nothing stable
        policy = ShadowPolicy(vid, sample, max_rps, max_cost_per_day)
        with self._ctx.store.unit_of_work(write=True) as uow:
            current = uow.aliases.get(alias)
            if current is None:
                raise NotFound(f"alias '{alias}' does not exist")
            authorize_alias_change(principal, alias, current.protected, reason)  # before 404s
            target = current.target
            if policy.candidate == target.version:
                raise InvalidInput(
                    f"alias '{alias}' already serves {candidate}; a shadow needs another version"
                )
            others = tuple(s for s in target.shadows if s.candidate != policy.candidate)
            wanted = replace(target, shadows=(*others, policy))
            why = reason or f"shadow {candidate} at {sample * 100:g}% of requests"
            return self._aliases.write_target_in(
                uow, principal, alias, wanted, AliasAction.SHADOW, why
            )

    def stop(
        self,
        principal: Principal,
        alias: str,
        candidate: str | None = None,
        reason: str | None = None,
    ) -> AliasChange:
        """Stop one candidate's shadow (or every one when ``candidate`` is None)."""
        with self._ctx.store.unit_of_work(write=True) as uow:
            current = uow.aliases.get(alias)
            if current is None:
                raise NotFound(f"alias '{alias}' does not exist")
            authorize_alias_change(principal, alias, current.protected, reason)  # before 404s
            shadows = current.target.shadows
            if candidate is None:
                if not shadows:
                    raise NotFound(f"alias '{alias}' has no shadow running")
                kept: tuple[ShadowPolicy, ...] = ()
            else:
                vid = VersionId.parse(candidate)
                kept = tuple(s for s in shadows if s.candidate != vid)
                if len(kept) == len(shadows):
                    running = ", ".join(str(s.candidate) for s in shadows) or "none"
                    raise NotFound(
                        f"{candidate} is not shadowing alias '{alias}' (running: {running})"
                    )
            wanted = replace(current.target, shadows=kept)
            why = reason or f"stop shadow {candidate or 'all candidates'}"
            return self._aliases.write_target_in(
                uow, principal, alias, wanted, AliasAction.SHADOW, why
            )

    def status(self, alias: str, window: timedelta | None = timedelta(days=1)) -> ShadowStatus:
        """Policies now, and pair counts per candidate over ``window`` (None: all time)."""
        current = self._aliases.get(alias)
        since = self._ctx.now() - window if window is not None else None
        counts = self._ctx.store.shadow_counts(alias, since)
        return ShadowStatus(
            alias, str(current.target.version), current.target.shadows, tuple(counts), since
        )

    def pairs(
        self,
        alias: str,
        candidate: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
        source: str | None = None,
    ) -> list[ShadowPair]:
        """Stored pairs (newest ``limit`` of the window, oldest first)."""
        if limit < 1:
            raise InvalidInput(f"limit must be at least 1, got {limit}")
        self._aliases.get(alias)  # NotFound for an unknown alias, not an empty report
        return self._ctx.store.shadow_pairs(alias, candidate, since, until, limit, source)
