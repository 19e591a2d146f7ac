"""Rollouts as use cases: start, watch, pause, resume, approve, abort, and the
controller's periodic look.

Each change is one transaction: the rollout row is updated compare-and-set on
its ``seq`` and, when traffic moves, the alias gets a new revision (with the
same checks, promotion stamp and audit entry as any flip) — so a step, a
completion or an automatic rollback reaches every gateway replica through the
same change feed as ``alias set``, within milliseconds.

The statistics are not here: the observer reads the request log into
:class:`~turnout.domain.gates.Evidence`, the gates judge it, and the rollout's
own pure transition decides; this module only sequences and applies.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import cast

from turnout.domain.access import ROLLOUT_CONTROLLER, Principal, authorize_alias_change
from turnout.domain.aliases import AliasAction
from turnout.domain.audit import JsonValue
from turnout.domain.gates import GateResult, Verdict, decide, evaluate_gates
from turnout.domain.ids import VersionId
from turnout.domain.rollouts import (
    DEFAULT_STEPS,
    Rollout,
    RolloutPlan,
    RolloutStatus,
    Transition,
    TransitionKind,
)
from turnout.errors import Conflict, NotFound
from turnout.ports import RolloutObserver, UnitOfWork
from turnout.services.aliases import AliasService
from turnout.services.context import ServiceContext, record
from turnout.services.promotion import gather_decision, require_promotion, stamp_promotion

__all__ = ["RolloutReport", "RolloutService"]


@dataclass(frozen=True, slots=True)
class RolloutReport:
    """``rollout status``: the stored state plus each gate's live estimate."""

    rollout: Rollout
    results: tuple[GateResult, ...]
    step_canary_requests: int
    canary_requests: int
    stable_requests: int


def _evidence_dicts(results: Sequence[GateResult]) -> tuple[dict[str, object], ...]:
    return tuple(result.to_dict() for result in results)


def _harm_text(results: Sequence[GateResult]) -> str:
    return "; ".join(r.summary for r in results if r.verdict is Verdict.HARM)


class RolloutService:
    def __init__(
        self,
        ctx: ServiceContext,
        aliases: AliasService,
        observer: RolloutObserver,
        new_salt: Callable[[], str] = lambda: secrets.token_hex(8),
    ) -> None:
        self._ctx = ctx
        self._aliases = aliases
        self._observer = observer
        self._new_salt = new_salt

    # -- reads ------------------------------------------------------------------

    def latest(self, alias: str) -> Rollout:
        with self._ctx.store.unit_of_work() as uow:
            rollout = uow.rollouts.latest(alias)
        if rollout is None:
            raise NotFound(f"alias '{alias}' has no rollout")
        return rollout

    def history(self, alias: str | None = None, limit: int = 50) -> list[Rollout]:
        with self._ctx.store.unit_of_work() as uow:
            return uow.rollouts.history(alias, limit)

    def active(self) -> list[Rollout]:
        with self._ctx.store.unit_of_work() as uow:
            return uow.rollouts.active()

    def status(self, alias: str) -> RolloutReport:
        """The newest rollout on ``alias`` with its gates judged on the log as of now."""
        return self.status_at(self.latest(alias), self._ctx.now())

    def status_at(self, rollout: Rollout, at: datetime) -> RolloutReport:
        """``rollout``'s gates judged on the request log as it stood at ``at``.

        The dashboard charts each gate over time from this: replaying the log at a
        few cut points needs no stored series, and gives the same figures whoever
        asks, whenever. The rollout is cut back to ``at`` first (steps not yet begun
        dropped, the one running then left open) so nothing logged later counts.
        """
        past = _as_of(rollout, at)
        observation = self._observer.observe(past, at)
        results = evaluate_gates(rollout.plan.gates, observation.evidence, rollout.plan.alpha)
        return RolloutReport(
            rollout,
            results,
            observation.step_canary_requests,
            observation.evidence.canary.requests,
            observation.evidence.stable.requests,
        )

    # -- operator actions ---------------------------------------------------------

    def start(
        self,
        principal: Principal,
        alias: str,
        candidate: str,
        steps: Sequence[float] | None = None,
        plan: RolloutPlan | None = None,
        reason: str | None = None,
    ) -> Rollout:
        """Begin moving ``alias`` to ``candidate`` at the plan's first step."""
        vid = VersionId.parse(candidate)
        if plan is None:
            plan = RolloutPlan.with_steps(steps or DEFAULT_STEPS)
        elif steps is not None:
            plan = RolloutPlan.with_steps(steps, base=plan)
        with self._ctx.store.unit_of_work(write=True) as uow:
            return self.start_in(uow, principal, alias, vid, plan, reason)

    def start_in(
        self,
        uow: UnitOfWork,
        principal: Principal,
        alias: str,
        vid: VersionId,
        plan: RolloutPlan,
        reason: str | None,
    ) -> Rollout:
        """:meth:`start` inside the caller's transaction (``apply`` of a config file)."""
        now = self._ctx.now()
        current = uow.aliases.get(alias)
        if current is None:
            raise NotFound(f"alias '{alias}' does not exist")
        authorize_alias_change(principal, alias, current.protected, reason)
        running = uow.rollouts.latest(alias)
        if running is not None and running.status.active:
            raise Conflict(
                f"rollout {running.id} ({running.stable} -> {running.candidate}) is "
                f"{running.status.value} on '{alias}'; abort it first"
            )
        if current.target.canary is not None:
            raise Conflict(f"alias '{alias}' already splits traffic with a canary")
        policy = current.target.promotion
        if policy is not None and vid != current.target.version:  # checked once, at the start
            require_promotion(uow, self._ctx.store, alias, policy, vid, current.target.version, now)
        rollout = Rollout.begin(
            alias,
            current.target.version,
            vid,
            plan,
            self._new_salt(),
            principal.name,
            reason,
            now,
        )
        rollout = replace(rollout, id=uow.rollouts.add(rollout))
        first = plan.steps[0]
        message = f"rollout {rollout.id} started: {rollout.stable} -> {vid}, " + (
            f"{first.percent:g}% first" if rollout.weight else "awaiting approval"
        )
        text = f"{message} ({reason})" if reason else message
        self._write_alias(uow, principal, rollout, current.target.fallbacks, text)
        self._audit(uow, now, principal, "rollout.start", rollout, message)
        return rollout

    def pause(self, principal: Principal, alias: str, reason: str | None = None) -> Transition:
        return self._act(principal, alias, reason, lambda r, now: r.pause(now, reason))

    def resume(self, principal: Principal, alias: str, reason: str | None = None) -> Transition:
        return self._act(principal, alias, reason, lambda r, now: r.resume(now, reason))

    def approve(self, principal: Principal, alias: str, reason: str | None = None) -> Transition:
        return self._act(principal, alias, reason, lambda r, now: r.approve(now, reason))

    def abort(self, principal: Principal, alias: str, reason: str | None = None) -> Transition:
        return self._act(principal, alias, reason, lambda r, now: r.abort(now, reason))

    def _act(
        self,
        principal: Principal,
        alias: str,
        reason: str | None,
        move: Callable[[Rollout, datetime], Transition],
    ) -> Transition:
        now = self._ctx.now()
        with self._ctx.store.unit_of_work(write=True) as uow:
            rollout = uow.rollouts.latest(alias)
            current = uow.aliases.get(alias)
            if rollout is None or current is None:
                raise NotFound(f"alias '{alias}' has no rollout")
            authorize_alias_change(principal, alias, current.protected, reason)
            transition = move(rollout, now)
            self._apply_in(uow, principal, rollout, transition, now, reason)
            return transition

    # -- the controller's look ----------------------------------------------------

    def tick(self) -> list[Transition]:
        """Judge every active rollout once; apply what changed. Returns the changes.

        Safe to run from several processes at once (the controller's lock makes
        it rare): every write is compare-and-set, and a lost race is skipped.
        """
        changes: list[Transition] = []
        for rollout in self.active():
            try:
                transition = self.look(rollout)
            except Conflict:
                continue  # someone else moved this rollout first; next look re-reads
            if transition is not None:
                changes.append(transition)
        return changes

    def look(self, rollout: Rollout) -> Transition | None:
        """One look at one rollout: judge, decide, apply (None when it only holds)."""
        now = self._ctx.now()
        overridden = self._overridden(rollout, now)
        if overridden is not None:
            return overridden
        observation = self._observer.observe(rollout, now)
        results = evaluate_gates(rollout.plan.gates, observation.evidence, rollout.plan.alpha)
        samples = observation.step_canary_requests
        decision = decide(results, rollout.requirements_met(samples, now))
        transition = rollout.decide(
            decision, samples, now, _evidence_dicts(results), harm=_harm_text(results)
        )
        if transition.kind is TransitionKind.HOLD:
            return None
        with self._ctx.store.unit_of_work(write=True) as uow:
            stored = uow.rollouts.get(rollout.id)
            if stored is None or stored.seq != rollout.seq:
                raise Conflict(f"rollout {rollout.id} changed since it was read")
            self._apply_in(
                uow, ROLLOUT_CONTROLLER, rollout, transition, now, transition.rollout.reason
            )
        return transition

    def _overridden(self, rollout: Rollout, now: datetime) -> Transition | None:
        """End a rollout whose alias someone changed by hand (``alias set`` mid-rollout).

        The flip wins — it is the newer, explicit decision — and the rollout is
        recorded as aborted without touching the alias again.
        """
        if rollout.weight == 0:
            return None
        with self._ctx.store.unit_of_work() as read:  # no writer lock for the usual case
            alias = read.aliases.get(rollout.alias)
        canary = alias.target.canary if alias is not None else None
        if canary is not None and canary.rollout_id == rollout.id:
            return None
        revision = alias.revision if alias is not None else "?"
        reason = f"alias '{rollout.alias}' was changed outside the rollout (revision {revision})"
        transition = rollout.abort(now, reason)
        with self._ctx.store.unit_of_work(write=True) as uow:
            uow.rollouts.update(transition.rollout, rollout.seq)  # CAS: once, if still so
            self._audit(uow, now, ROLLOUT_CONTROLLER, "rollout.abort", transition.rollout, reason)
            return transition

    # -- writing ------------------------------------------------------------------

    def _apply_in(
        self,
        uow: UnitOfWork,
        principal: Principal,
        before: Rollout,
        transition: Transition,
        now: datetime,
        reason: str | None,
    ) -> None:
        after = transition.rollout
        uow.rollouts.update(after, before.seq)
        if transition.changes_traffic:
            alias = uow.aliases.get(after.alias)
            if alias is None:
                raise NotFound(f"alias '{after.alias}' does not exist")
            text = f"rollout {after.id}: {transition.message}"
            if reason and reason not in text:
                text += f" ({reason})"
            self._write_alias(uow, principal, after, alias.target.fallbacks, text)
        if transition.kind is TransitionKind.COMPLETE:
            _stamp_gate_results(uow, after)
            self._stamp_evidence(uow, after, now)
        self._audit(
            uow,
            now,
            principal,
            f"rollout.{transition.kind.value}",
            after,
            transition.message,
            reason,
        )

    def _stamp_evidence(self, uow: UnitOfWork, rollout: Rollout, now: datetime) -> None:
        """A completed rollout stamps the promotion evidence it started with (as it is now)."""
        alias = uow.aliases.get(rollout.alias)
        policy = alias.target.promotion if alias is not None else None
        if policy is not None:
            decision = gather_decision(
                uow, self._ctx.store, rollout.alias, policy, rollout.candidate, rollout.stable, now
            )
            stamp_promotion(uow, rollout.candidate, decision)

    def _write_alias(
        self,
        uow: UnitOfWork,
        principal: Principal,
        rollout: Rollout,
        fallbacks: tuple[VersionId, ...],
        text: str,
    ) -> None:
        rolled_back = rollout.status is RolloutStatus.ROLLED_BACK
        action = AliasAction.AUTO_ROLLBACK if rolled_back else AliasAction.ROLLOUT
        self._aliases.write_target_in(
            uow, principal, rollout.alias, rollout.target(fallbacks), action, text
        )

    @staticmethod
    def _audit(
        uow: UnitOfWork,
        now: datetime,
        principal: Principal,
        action: str,
        rollout: Rollout,
        message: str,
        reason: str | None = None,
    ) -> None:
        detail: dict[str, JsonValue] = {
            "rollout": rollout.id,
            "stable": str(rollout.stable),
            "candidate": str(rollout.candidate),
            "status": rollout.status.value,
            "weight_pct": rollout.weight / 100,
            "message": message,
        }
        if reason:  # an operator's why (pause, resume, approve, abort): the decision log shows it
            detail["reason"] = reason
        if rollout.evidence:
            detail["evidence"] = cast(JsonValue, [dict(item) for item in rollout.evidence])
        record(uow, now, principal, action, rollout.alias, detail)


def _as_of(rollout: Rollout, at: datetime) -> Rollout:
    """``rollout`` as the observer would have seen it at ``at``.

    Unchanged when nothing moved after ``at`` (``updated_at`` is the last stored
    transition, the finish included), so :meth:`RolloutService.status` sees the
    rollout exactly as stored.
    """
    if at >= rollout.updated_at:
        return rollout
    log = tuple(
        record
        if record.ended_at is not None and record.ended_at <= at
        else replace(record, ended_at=None)
        for record in rollout.steps_log
        if record.started_at < at
    )
    if not log:
        return replace(rollout, finished_at=None, steps_log=(), step_started_at=rollout.started_at)
    return replace(
        rollout,
        finished_at=None,
        steps_log=log,
        step=log[-1].step,
        step_started_at=log[-1].started_at,
    )


def _stamp_gate_results(uow: UnitOfWork, rollout: Rollout) -> None:
    """The gates' estimates at promotion go into the version's record (``eval_scores``)."""
    version = uow.versions.get(rollout.candidate)
    if version is None:
        return
    scores = dict(version.eval_scores)
    for item in rollout.evidence:
        estimate = item.get("estimate")
        if isinstance(estimate, int | float) and math.isfinite(estimate):
            scores[f"rollout.{item.get('metric')}"] = float(estimate)
    uow.versions.update(replace(version, eval_scores=scores))
