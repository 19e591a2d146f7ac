"""Active health: a small eval suite run against every version in use, on a schedule.

Passive health only sees versions that get traffic; a fallback nobody calls can
rot unnoticed until the outage that needs it. The rollout controller's leader
(one per registry, so N replicas do not probe N times) runs the probe suite
against each version an alias uses — primary, canary, fallbacks — every
``interval``; each run is stored like any eval run (suite ``probe``), so it is
listed by ``turnout eval list --suite probe``. The newest stored probe run also
spaces the probes across leader changes and restarts.

A probe whose mean score falls below the version's score *at promotion* (its
``eval:<suite>`` record) by more than ``tolerance`` is a quality regression; a
probe whose every case failed is a failure. Either is recorded as a health event
(kind ``probe``) and sent to the registry's webhooks; so is the return to ok.
Routing away from a regressed version is left to its breaker and to people.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from turnout.domain.aliases import Alias
from turnout.domain.eval_runs import EvalRun
from turnout.domain.eval_suite import EvalSuite
from turnout.domain.health import HealthEvent
from turnout.domain.ids import VersionId
from turnout.errors import TurnoutError
from turnout.ports import ModelCaller
from turnout.services.context import ServiceContext
from turnout.services.controller import WebhookSender
from turnout.services.evals import EvalService, RunOptions

__all__ = ["ProbeRunner", "probe_verdict"]

log = logging.getLogger(__name__)


def probe_verdict(run: EvalRun, baseline: float | None, tolerance: float) -> tuple[str, str]:
    """(state, detail) of one probe run: ``ok``, ``regression`` or ``failed``."""
    aggregate = run.aggregate
    score = f"probe scored {aggregate.mean_score:.3f} on {aggregate.cases} cases (run {run.id})"
    if aggregate.cases and aggregate.errors == aggregate.cases:
        return "failed", f"every probe case failed (run {run.id})"
    if baseline is not None and aggregate.mean_score < baseline - tolerance:
        return "regression", f"{score}, below {baseline:.3f} at promotion - {tolerance:g}"
    reference = f" (at promotion: {baseline:.3f})" if baseline is not None else ""
    return "ok", score + reference


class ProbeRunner:
    """Runs the probe suite when due; called from the controller's leader loop."""

    def __init__(
        self,
        ctx: ServiceContext,
        suite: EvalSuite,
        caller_factory: Callable[[], ModelCaller],
        interval: timedelta = timedelta(minutes=5),
        tolerance: float = 0.1,
        webhooks: WebhookSender | None = None,
        urls: Sequence[str] = (),
    ) -> None:
        if interval <= timedelta(0) or not 0.0 <= tolerance <= 1.0:
            raise ValueError("probe interval must be positive and tolerance in [0, 1]")
        self._ctx = ctx
        self._suite = suite
        self._caller_factory = caller_factory
        self._interval = interval
        self._tolerance = tolerance
        self._webhooks = webhooks
        self._urls = tuple(urls)

    def run_if_due(self) -> list[HealthEvent]:
        """Probe every version in use if the newest probe run is older than the interval."""
        now = self._ctx.now()
        try:
            with self._ctx.store.unit_of_work() as uow:
                newest = uow.evals.recent(suite=self._suite.name, limit=1)
                if newest and now - newest[0].finished_at < self._interval:
                    return []
                versions = _in_use(uow.aliases.all())
            return asyncio.run(self._probe(versions, now))
        except TurnoutError as exc:  # the store is down: try again on a later look
            log.warning("probes: %s", exc.message)
            return []

    async def _probe(self, versions: Sequence[str], now: datetime) -> list[HealthEvent]:
        caller = self._caller_factory()
        service = EvalService(self._ctx, caller)
        changed: list[HealthEvent] = []
        try:
            for version in versions:
                run = await service.run(
                    self._suite, version, concurrency=2, options=RunOptions(timeout_s=30.0)
                )
                event = self._judge(version, run, now)
                if event is not None:
                    changed.append(event)
        finally:
            await caller.aclose()
        if changed:
            self._ctx.store.log_health_events(changed)
            for event in changed:
                self._notify(event)
        return changed

    def _judge(self, version: str, run: EvalRun, now: datetime) -> HealthEvent | None:
        """The event to record, if the probe state of ``version`` changed."""
        with self._ctx.store.unit_of_work() as uow:
            record = uow.versions.get(VersionId.parse(version))
        baseline = record.eval_scores.get(f"eval:{self._suite.name}") if record else None
        state, detail = probe_verdict(run, baseline, self._tolerance)
        previous = next(
            (e for e in self._ctx.store.health_events(version, limit=20) if e.kind == "probe"),
            None,
        )
        if previous is not None and previous.state == state:
            return None
        if previous is None and state == "ok":
            return None  # nothing to report: a first probe that is fine
        return HealthEvent(now, version, "probe", state, detail, "controller")

    def _notify(self, event: HealthEvent) -> None:
        level = logging.INFO if event.state == "ok" else logging.WARNING
        log.log(level, "probe of %s: %s (%s)", event.version, event.state, event.detail)
        if self._webhooks is None:
            return
        icon = ":white_check_mark:" if event.state == "ok" else ":warning:"
        body = {
            "text": f"{icon} turnout probe: {event.version} is {event.state}: {event.detail}",
            "turnout": {"version": event.version, "kind": "probe", "state": event.state},
        }
        for url in self._urls:
            self._webhooks.send(url, body)


def _in_use(aliases: Sequence[Alias]) -> list[str]:
    """Every version an alias serves or would fall back to, sorted."""
    found: set[str] = set()
    for alias in aliases:
        target = alias.target
        found.add(str(target.version))
        if target.canary is not None:
            found.add(str(target.canary.version))
        found.update(str(v) for v in target.fallbacks)
    return sorted(found)
