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
*completes* the rollout: the alias then serves the candidate alone.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from turnout.domain.aliases import AliasTarget, CanarySplit
from turnout.domain.bucketing import BUCKETS
from turnout.domain.gates import DEFAULT_GATES, Decision, Evidence, GateSpec, Metric
from turnout.domain.ids import VersionId
from turnout.domain.scorers import validate_scorers
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

DEFAULT_STEPS = (1.0, 10.0, 50.0, 100.0)
"""Percent of traffic on the canary at each step."""

DEFAULT_PLAN_GATES = tuple(gate for gate in DEFAULT_GATES if gate.metric is not Metric.QUALITY)
"""A plan's gates when its policy names none: errors and p95 latency.

The quality gate needs feedback or online scores; without them it stays
*insufficient* and would hold every rollout forever, so a policy opts in to it.
"""

_DEFAULT_MIN_SAMPLES = 200
_DEFAULT_MIN_DURATION_S = 60.0
_DEFAULT_MAX_DURATION_S = 24 * 3600.0


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


def _pct_to_weight(pct: float) -> int:
    if not math.isfinite(pct) or not 0 < pct <= 100:
        raise InvalidInput(f"rollout step {pct:g}% must be above 0 and at most 100")
    weight = round(pct * 100)
    if weight < 1:
        raise InvalidInput(f"rollout step {pct:g}% is below the 0.01% resolution")
    return weight


def parse_steps(text: str) -> tuple[float, ...]:
    """``"1,10,50,100"`` -> (1.0, 10.0, 50.0, 100.0), with a clear error otherwise."""
    parts = [part.strip().rstrip("%") for part in text.split(",") if part.strip()]
    if not parts:
        raise InvalidInput("--steps needs percentages, e.g. 1,10,50,100")
    try:
        return tuple(float(part) for part in parts)
    except ValueError:
        raise InvalidInput(f"--steps {text!r}: every step must be a number (percent)") from None


@dataclass(frozen=True, slots=True)
class StepPolicy:
    """One step: the canary's weight and when it may move on.

    ``min_samples`` counts the canary's requests during the step; the step also
    lasts at least ``min_duration_s``. A step still short of its samples after
    ``max_duration_s`` pauses the rollout (never advances it blind, never rolls
    it back: too little traffic is not evidence of harm). ``approval`` asks for
    a person's ``rollout approve`` before the step starts.
    """

    weight: int
    min_samples: int = _DEFAULT_MIN_SAMPLES
    min_duration_s: float = _DEFAULT_MIN_DURATION_S
    max_duration_s: float = _DEFAULT_MAX_DURATION_S
    approval: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.weight <= BUCKETS:
            raise InvalidInput(f"step weight {self.weight} must be 1-{BUCKETS} basis points")
        if self.min_samples < 0:
            raise InvalidInput("step min_samples must not be negative")
        if not 0 <= self.min_duration_s <= self.max_duration_s:
            raise InvalidInput("step durations need 0 <= min_duration_s <= max_duration_s")

    @property
    def percent(self) -> float:
        return self.weight / 100

    def to_dict(self) -> dict[str, object]:
        return {
            "percent": self.percent,
            "min_samples": self.min_samples,
            "min_duration_s": self.min_duration_s,
            "max_duration_s": self.max_duration_s,
            "approval": self.approval,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object], where: str = "step") -> StepPolicy:
        unknown = set(data) - {
            "percent",
            "min_samples",
            "min_duration_s",
            "max_duration_s",
            "approval",
        }
        if unknown:
            raise InvalidInput(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        if "percent" not in data:
            raise InvalidInput(f"{where}: needs 'percent'")
        return cls(
            weight=_pct_to_weight(_number(data["percent"], f"{where}.percent")),
            min_samples=int(
                _number(data.get("min_samples", _DEFAULT_MIN_SAMPLES), f"{where}.min_samples")
            ),
            min_duration_s=_number(
                data.get("min_duration_s", _DEFAULT_MIN_DURATION_S), f"{where}.min_duration_s"
            ),
            max_duration_s=_number(
                data.get("max_duration_s", _DEFAULT_MAX_DURATION_S), f"{where}.max_duration_s"
            ),
            approval=_flag(data.get("approval", False), f"{where}.approval"),
        )


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{where} must be a number, not {value!r}")
    return float(value)


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{where} must be true or false, not {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class RolloutPlan:
    """Steps, gates and the false-rollback budget ``alpha`` of one rollout."""

    steps: tuple[StepPolicy, ...]
    gates: tuple[GateSpec, ...] = DEFAULT_PLAN_GATES
    alpha: float = 0.05
    webhooks: tuple[str, ...] = ()
    scorers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate_scorers(self.scorers)
        if not self.steps:
            raise InvalidInput("a rollout needs at least one step")
        weights = [step.weight for step in self.steps]
        if any(b <= a for a, b in itertools.pairwise(weights)):
            raise InvalidInput(
                "rollout steps must increase: " + " -> ".join(f"{w / 100:g}%" for w in weights)
            )
        if weights[-1] != BUCKETS:
            raise InvalidInput("the last rollout step must be 100% (it completes the rollout)")
        if not 0 < self.alpha < 0.5:
            raise InvalidInput(f"alpha {self.alpha} must be between 0 and 0.5")
        if not self.gates:
            raise InvalidInput("a rollout needs at least one gate")
        for url in self.webhooks:
            if not url.startswith(("http://", "https://")):
                raise InvalidInput(f"webhook {url!r} must be an http(s) URL")

    @classmethod
    def with_steps(
        cls, percents: Sequence[float] = DEFAULT_STEPS, base: RolloutPlan | None = None
    ) -> RolloutPlan:
        """A plan with these step percentages and the other settings of ``base``."""
        template = base.steps[0] if base is not None else StepPolicy(weight=BUCKETS)
        steps = tuple(replace(template, weight=_pct_to_weight(p), approval=False) for p in percents)
        if base is None:
            return cls(steps)
        return replace(base, steps=steps)

    def to_dict(self) -> dict[str, object]:
        return {
            "steps": [step.to_dict() for step in self.steps],
            "gates": [gate.to_dict() for gate in self.gates],
            "alpha": self.alpha,
            "webhooks": list(self.webhooks),
            "scorers": list(self.scorers),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RolloutPlan:
        """A policy file's content (YAML or JSON), with defaults for what it omits.

        ``steps`` is a list of percentages or of step mappings; top-level
        ``min_samples``/``min_duration_s``/``max_duration_s`` apply to every
        step that does not set its own; ``approval_before`` lists percentages
        that wait for a person.
        """
        known = {
            "steps",
            "gates",
            "alpha",
            "webhooks",
            "min_samples",
            "min_duration_s",
            "max_duration_s",
            "approval_before",
            "scorers",
        }
        unknown = set(data) - known
        if unknown:
            raise InvalidInput(f"rollout policy: unknown key(s) {', '.join(sorted(unknown))}")
        defaults = {
            k: data[k] for k in ("min_samples", "min_duration_s", "max_duration_s") if k in data
        }
        raw_steps = data.get("steps", list(DEFAULT_STEPS))
        if not isinstance(raw_steps, list):
            raise InvalidInput("rollout policy: 'steps' must be a list")
        approvals = data.get("approval_before", [])
        if not isinstance(approvals, list):
            raise InvalidInput("rollout policy: 'approval_before' must be a list of percentages")
        approve_at = {_pct_to_weight(_number(p, "approval_before")) for p in approvals}
        steps = []
        for index, raw in enumerate(raw_steps):
            where = f"rollout policy steps[{index}]"
            entry: dict[str, object] = dict(defaults)
            if isinstance(raw, Mapping):
                entry.update(raw)
            else:
                entry["percent"] = raw
            step = StepPolicy.from_dict(entry, where)
            if step.weight in approve_at:
                step = replace(step, approval=True)
            steps.append(step)
        missing = approve_at - {step.weight for step in steps}
        if missing:
            raise InvalidInput(
                "rollout policy: approval_before names no step: "
                + ", ".join(f"{w / 100:g}%" for w in sorted(missing))
            )
        raw_gates = data.get("gates")
        gates = DEFAULT_PLAN_GATES
        if raw_gates is not None:
            if not isinstance(raw_gates, list) or not all(
                isinstance(g, Mapping) for g in raw_gates
            ):
                raise InvalidInput("rollout policy: 'gates' must be a list of mappings")
            gates = tuple(GateSpec.from_dict(g) for g in raw_gates)
        webhooks = data.get("webhooks", [])
        if not isinstance(webhooks, list) or not all(isinstance(w, str) for w in webhooks):
            raise InvalidInput("rollout policy: 'webhooks' must be a list of URLs")
        scorers = data.get("scorers", [])
        if not isinstance(scorers, list) or not all(isinstance(s, str) for s in scorers):
            raise InvalidInput("rollout policy: 'scorers' must be a list of scorer names")
        return cls(
            steps=tuple(steps),
            gates=gates,
            alpha=_number(data.get("alpha", 0.05), "rollout policy alpha"),
            webhooks=tuple(webhooks),
            scorers=tuple(scorers),
        )


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
