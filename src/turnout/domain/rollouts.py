"""Gradual rollouts: the plan, the state machine, and what each decision does.

A rollout moves an alias from its *stable* version to a *candidate* in steps
(by default 1 % -> 10 % -> 50 % -> 100 % of the sticky buckets). At every look
the controller hands this module the gates' verdicts (see
:mod:`turnout.domain.gates`); the transition is a pure function of (rollout,
verdicts, canary samples, now), so "rolls back after this evidence" and "waits
for the step's minimum duration" are tested without sleeping and without a
database. The controller only applies the result, compare-and-set on
:attr:`Rollout.seq`, so a decision lands exactly once however many controllers
race.

The last step (100 %) has no stable arm left to compare with, so reaching it
*completes* the rollout: the alias then serves the candidate alone. The plan
itself (steps, gates, policy parsing) is :mod:`turnout.domain.rollout_plan`; its
names are re-exported here for callers that deal in rollouts as a whole.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from turnout.domain.aliases import AliasTarget, CanarySplit
from turnout.domain.bucketing import BUCKETS
from turnout.domain.gates import Decision, Evidence
from turnout.domain.ids import VersionId
from turnout.domain.rollout_plan import (
    DEFAULT_PLAN_GATES,
    DEFAULT_STEPS,
    RolloutPlan,
    StepPolicy,
    parse_steps,
)
from turnout.errors import Conflict, InvalidInput

__all__ = [
    "DEFAULT_PLAN_GATES",
    "DEFAULT_STEPS",
    "Observation",
    "Rollout",
    "RolloutPlan",
    "RolloutStatus",
    "StepPolicy",
    "StepRecord",
    "Transition",
    "TransitionKind",
    "parse_steps",
]


class RolloutStatus(enum.StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPLETED = "completed"
    ROLLED_BACK = "rolled_back"
    ABORTED = "aborted"

    @property
    def active(self) -> bool:
        """Whether the canary still serves traffic (so gates are still watched)."""
        return self in _ACTIVE


_ACTIVE = frozenset({RolloutStatus.RUNNING, RolloutStatus.PAUSED, RolloutStatus.AWAITING_APPROVAL})


@dataclass(frozen=True, slots=True)
class StepRecord:
    """When a step started and ended: the windows the error count test compares."""

    step: int
    weight: int
    started_at: datetime
    ended_at: datetime | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "step": self.step,
            "weight": self.weight,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> StepRecord:
        ended = data.get("ended_at")
        step, weight = data["step"], data["weight"]
        if not isinstance(step, int) or not isinstance(weight, int):
            raise InvalidInput("step record 'step' and 'weight' must be integers")
        return cls(
            step=step,
            weight=weight,
            started_at=datetime.fromisoformat(str(data["started_at"])),
            ended_at=datetime.fromisoformat(str(ended)) if ended else None,
        )


@dataclass(frozen=True, slots=True)
class Observation:
    """What the request log says about a rollout: pooled evidence for the gates,
    and the canary's requests in the current step (for the step's minimum)."""

    evidence: Evidence
    step_canary_requests: int


class TransitionKind(enum.StrEnum):
    HOLD = "hold"
    ADVANCE = "advance"
    AWAIT_APPROVAL = "await_approval"
    COMPLETE = "complete"
    ROLLBACK = "rollback"
    STALL = "stall"
    PAUSE = "pause"
    RESUME = "resume"
    APPROVE = "approve"
    ABORT = "abort"


@dataclass(frozen=True, slots=True)
class Transition:
    """A rollout's next state, and whether the alias must be rewritten for it."""

    kind: TransitionKind
    rollout: Rollout
    message: str

    @property
    def changes_traffic(self) -> bool:
        """Whether the canary weight (so the alias target) changes."""
        return self.kind in {
            TransitionKind.ADVANCE,
            TransitionKind.COMPLETE,
            TransitionKind.ROLLBACK,
            TransitionKind.ABORT,
            TransitionKind.APPROVE,
        }


@dataclass(frozen=True, slots=True)
class Rollout:
    """One rollout of ``candidate`` on ``alias``, as stored; changed only by transitions."""

    id: int
    alias: str
    stable: VersionId
    candidate: VersionId
    salt: str
    plan: RolloutPlan
    status: RolloutStatus
    step: int
    started_at: datetime
    step_started_at: datetime
    updated_at: datetime
    actor: str
    reason: str | None = None
    finished_at: datetime | None = None
    steps_log: tuple[StepRecord, ...] = ()
    evidence: tuple[Mapping[str, object], ...] = field(default=(), compare=False)
    seq: int = 1

    @classmethod
    def begin(
        cls,
        alias: str,
        stable: VersionId,
        candidate: VersionId,
        plan: RolloutPlan,
        salt: str,
        actor: str,
        reason: str | None,
        now: datetime,
    ) -> Rollout:
        """A new rollout at its first step (or waiting for approval to start it)."""
        if stable == candidate:
            raise InvalidInput(f"alias '{alias}' already serves {candidate}; nothing to roll out")
        first = plan.steps[0]
        status = RolloutStatus.AWAITING_APPROVAL if first.approval else RolloutStatus.RUNNING
        weight = 0 if first.approval else first.weight
        return cls(
            id=0,
            alias=alias,
            stable=stable,
            candidate=candidate,
            salt=salt,
            plan=plan,
            status=status,
            step=0 if not first.approval else -1,
            started_at=now,
            step_started_at=now,
            updated_at=now,
            actor=actor,
            reason=reason,
            steps_log=(StepRecord(0, weight, now),) if weight else (),
        )

    @property
    def current(self) -> StepPolicy | None:
        """The step being served (None before the first one started)."""
        return self.plan.steps[self.step] if 0 <= self.step < len(self.plan.steps) else None

    @property
    def weight(self) -> int:
        """Canary basis points now: 0 once finished or before the first step."""
        if not self.status.active or self.current is None:
            return 0
        return self.current.weight

    def canary(self) -> CanarySplit | None:
        if self.weight == 0:
            return None
        return CanarySplit(self.candidate, self.weight, self.salt, self.id, self.plan.scorers)

    def target(self, fallbacks: tuple[VersionId, ...] = ()) -> AliasTarget:
        """The alias target this state serves: stable plus canary, or one version."""
        if self.status is RolloutStatus.COMPLETED:
            chain = tuple(v for v in fallbacks if v != self.candidate)
            return AliasTarget(self.candidate, chain)
        chain = tuple(v for v in fallbacks if v != self.stable)
        return AliasTarget(self.stable, chain, self.canary())

    def elapsed_s(self, now: datetime) -> float:
        return max(0.0, (now - self.step_started_at).total_seconds())

    # -- transitions ------------------------------------------------------------

    def _moved(self, now: datetime, **changes: object) -> Rollout:
        return replace(self, updated_at=now, seq=self.seq + 1, **changes)  # type: ignore[arg-type]

    def _enter(self, step: int, now: datetime, **changes: object) -> Rollout:
        log = self._close_log(now)
        weight = self.plan.steps[step].weight
        log = (*log, StepRecord(step, weight, now))
        return self._moved(now, step=step, step_started_at=now, steps_log=log, **changes)

    def _close_log(self, now: datetime) -> tuple[StepRecord, ...]:
        if self.steps_log and self.steps_log[-1].ended_at is None:
            return (*self.steps_log[:-1], replace(self.steps_log[-1], ended_at=now))
        return self.steps_log

    def _finish(self, status: RolloutStatus, now: datetime, reason: str | None) -> Rollout:
        return self._moved(
            now, status=status, finished_at=now, steps_log=self._close_log(now), reason=reason
        )

    def _require_active(self, verb: str) -> None:
        if not self.status.active:
            raise Conflict(
                f"rollout {self.id} on '{self.alias}' is {self.status.value}; cannot {verb} it"
            )

    def pause(self, now: datetime, reason: str | None = None) -> Transition:
        self._require_active("pause")
        if self.status is not RolloutStatus.RUNNING:
            raise Conflict(
                f"rollout {self.id} on '{self.alias}' is {self.status.value}, not running"
            )
        paused = self._moved(now, status=RolloutStatus.PAUSED, reason=reason)
        return Transition(TransitionKind.PAUSE, paused, f"paused at {self._pct()}")

    def resume(self, now: datetime, reason: str | None = None) -> Transition:
        if self.status is not RolloutStatus.PAUSED:
            raise Conflict(
                f"rollout {self.id} on '{self.alias}' is {self.status.value}, not paused"
            )
        resumed = self._moved(now, status=RolloutStatus.RUNNING, reason=reason)
        return Transition(TransitionKind.RESUME, resumed, f"resumed at {self._pct()}")

    def approve(self, now: datetime, reason: str | None = None) -> Transition:
        if self.status is not RolloutStatus.AWAITING_APPROVAL:
            raise Conflict(
                f"rollout {self.id} on '{self.alias}' is {self.status.value}; "
                "nothing awaits approval"
            )
        nxt = self.step + 1
        if self.plan.steps[nxt].weight == BUCKETS:
            done = self._finish(RolloutStatus.COMPLETED, now, reason)
            return Transition(TransitionKind.COMPLETE, done, f"approved: {self.candidate} at 100%")
        entered = self._enter(nxt, now, status=RolloutStatus.RUNNING, reason=reason)
        return Transition(TransitionKind.APPROVE, entered, f"approved: canary at {entered._pct()}")

    def abort(self, now: datetime, reason: str | None = None) -> Transition:
        self._require_active("abort")
        aborted = self._finish(RolloutStatus.ABORTED, now, reason)
        return Transition(TransitionKind.ABORT, aborted, f"aborted: {self.stable} back at 100%")

    def decide(
        self,
        decision: Decision,
        canary_samples: int,
        now: datetime,
        evidence: tuple[Mapping[str, object], ...],
        harm: str | None = None,
    ) -> Transition:
        """Apply one look's verdict. ``decision`` came from the gates (see
        :func:`requirements_met` for what the step demands before advancing)."""
        self._require_active("decide on")
        if decision is Decision.ROLLBACK:
            reason = f"automatic rollback: {harm or 'a gate showed harm'}"
            done = replace(self._finish(RolloutStatus.ROLLED_BACK, now, reason), evidence=evidence)
            return Transition(TransitionKind.ROLLBACK, done, reason)
        held = replace(self, evidence=evidence)
        step = self.current
        if self.status is not RolloutStatus.RUNNING or step is None:
            return Transition(TransitionKind.HOLD, held, f"{self.status.value} at {self._pct()}")
        if decision is Decision.ADVANCE:
            return held._advance(now)
        if self.elapsed_s(now) >= step.max_duration_s:
            reason = (
                f"step {self.step + 1} ({self._pct()}) reached its max duration "
                f"{step.max_duration_s:g}s with {canary_samples}/{step.min_samples} canary "
                "samples; paused (resume to keep waiting, or abort)"
            )
            stalled = held._moved(now, status=RolloutStatus.PAUSED, reason=reason)
            return Transition(TransitionKind.STALL, stalled, reason)
        return Transition(TransitionKind.HOLD, held, f"holding at {self._pct()}")

    def requirements_met(self, canary_samples: int, now: datetime) -> bool:
        """Whether the current step had its minimum canary samples and duration."""
        step = self.current
        if step is None or self.status is not RolloutStatus.RUNNING:
            return False
        return canary_samples >= step.min_samples and self.elapsed_s(now) >= step.min_duration_s

    def _advance(self, now: datetime) -> Transition:
        nxt = self.step + 1
        following = self.plan.steps[nxt]
        if following.approval:
            waiting = self._moved(now, status=RolloutStatus.AWAITING_APPROVAL)
            return Transition(
                TransitionKind.AWAIT_APPROVAL,
                waiting,
                f"step {self.step + 1} passed; {following.percent:g}% awaits approval",
            )
        if following.weight == BUCKETS:
            done = self._finish(RolloutStatus.COMPLETED, now, "all gates passed")
            return Transition(TransitionKind.COMPLETE, done, f"completed: {self.candidate} at 100%")
        entered = self._enter(nxt, now)
        return Transition(TransitionKind.ADVANCE, entered, f"advanced to {entered._pct()}")

    def _pct(self) -> str:
        return f"{self.weight / 100:g}%"
