"""``turnout health``: how every version in use is doing, and what would catch a failure.

Three views of one picture: *passive* health — live requests, error rate and
latency per version from the request log; *events* — breaker state changes from
the gateways and probe verdicts from the controller, newest first, so the
current state of each version's breaker on each replica is the newest event;
and the *fallback chains* that have fallen behind (see
:mod:`turnout.domain.fallback_check`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from turnout.domain.aliases import Alias
from turnout.domain.fallback_check import FallbackProblem, check_fallbacks
from turnout.domain.health import HealthEvent, VersionTraffic
from turnout.domain.versions import Version
from turnout.ports import UnitOfWork
from turnout.services.context import ServiceContext

__all__ = ["HealthReport", "HealthService", "VersionUse"]

_EVENTS = 200
"""Newest events read per report (enough for every replica's latest state)."""


@dataclass(frozen=True, slots=True)
class VersionUse:
    """One version, what points at it, its traffic and its latest breaker/probe states."""

    version: str
    uses: tuple[str, ...]  # "prod-chat (primary)", "prod-chat (fallback 1)", ...
    traffic: VersionTraffic
    breakers: tuple[HealthEvent, ...]  # the newest breaker event per replica
    probe: HealthEvent | None

    @property
    def open_somewhere(self) -> bool:
        return any(event.state != "closed" for event in self.breakers)


@dataclass(frozen=True, slots=True)
class HealthReport:
    since: datetime
    versions: tuple[VersionUse, ...]
    fallback_problems: tuple[FallbackProblem, ...]
    events: tuple[HealthEvent, ...]  # newest first

    @property
    def healthy(self) -> bool:
        return not self.fallback_problems and not any(v.open_somewhere for v in self.versions)


class HealthService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def report(self, window: timedelta = timedelta(minutes=15)) -> HealthReport:
        now = self._ctx.now()
        uses: dict[str, list[str]] = {}
        with self._ctx.store.unit_of_work() as uow:
            aliases = uow.aliases.all()
            versions = {str(v.id): v for v in uow.versions.all()}
            for alias in aliases:
                target = alias.target
                uses.setdefault(str(target.version), []).append(f"{alias.name} (primary)")
                if target.canary is not None:
                    uses.setdefault(str(target.canary.version), []).append(f"{alias.name} (canary)")
                for i, fallback in enumerate(target.fallbacks, start=1):
                    uses.setdefault(str(fallback), []).append(f"{alias.name} (fallback {i})")
            evaluated = _evaluated(uow, aliases)
        problems = _problems(aliases, versions, now.date(), evaluated)
        names = sorted(uses)
        since = now - window
        traffic = {t.version: t for t in self._ctx.store.version_traffic(names, since)}
        events = self._ctx.store.health_events(limit=_EVENTS)
        rows = tuple(
            VersionUse(
                name,
                tuple(uses[name]),
                traffic[name],
                _latest_breakers(events, name),
                next((e for e in events if e.version == name and e.kind == "probe"), None),
            )
            for name in names
        )
        return HealthReport(since, rows, tuple(problems), tuple(events[:20]))

    def fallback_problems(self, names: Collection[str] | None = None) -> list[FallbackProblem]:
        """Weak fallbacks of the aliases ``names`` (all when None): for ``plan``/``apply``."""
        with self._ctx.store.unit_of_work() as uow:
            aliases = [a for a in uow.aliases.all() if names is None or a.name in names]
            versions = {str(v.id): v for v in uow.versions.all()}
            evaluated = _evaluated(uow, aliases)
        return _problems(aliases, versions, self._ctx.now().date(), evaluated)


def _evaluated(uow: UnitOfWork, aliases: Sequence[Alias]) -> dict[tuple[str, str], bool]:
    """Whether each fallback of a guarded alias has a run of each policy suite."""
    return {
        (suite, str(fallback)): bool(uow.evals.recent(suite, str(fallback), 1))
        for alias in aliases
        if alias.target.promotion is not None
        for suite in alias.target.promotion.suites
        for fallback in alias.target.fallbacks
    }


def _problems(
    aliases: Sequence[Alias],
    versions: Mapping[str, Version],
    today: date,
    evaluated: Mapping[tuple[str, str], bool],
) -> list[FallbackProblem]:
    return [p for alias in aliases for p in check_fallbacks(alias, versions, today, evaluated)]


def _latest_breakers(events: list[HealthEvent], version: str) -> tuple[HealthEvent, ...]:
    seen: dict[str, HealthEvent] = {}
    for event in events:  # newest first: the first per source is its current state
        if event.version == version and event.kind == "breaker" and event.source not in seen:
            seen[event.source] = event
    return tuple(seen.values())
