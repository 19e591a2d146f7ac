"""The rollout plan and state machine, as pure values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from turnout.domain.gates import Decision, Metric
from turnout.domain.ids import VersionId
from turnout.domain.rollouts import (
    Rollout,
    RolloutPlan,
    RolloutStatus,
    TransitionKind,
    parse_steps,
)
from turnout.errors import Conflict, InvalidInput

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STABLE = VersionId.parse("sim/a-2026-01-01")
CANARY = VersionId.parse("sim/b-2026-02-01")


def _rollout(policy: dict[str, object] | None = None) -> Rollout:
    plan = RolloutPlan.from_dict(policy or {"min_samples": 10, "min_duration_s": 60})
    return Rollout.begin("chat", STABLE, CANARY, plan, "salt", "me", None, T0)


def test_steps_parse_and_default() -> None:
    assert parse_steps("1, 10,50%,100") == (1.0, 10.0, 50.0, 100.0)
    plan = RolloutPlan.from_dict({})
    assert [s.weight for s in plan.steps] == [100, 1000, 5000, 10000]
    assert {g.metric for g in plan.gates} >= {Metric.ERROR_RATE}


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"steps": [10, 1, 100]}, "must increase"),
        ({"steps": [1, 50]}, "100%"),
        ({"steps": [0, 100]}, "above 0"),
        ({"steps": "1,100"}, "must be a list"),
        ({"alpha": 0.9}, "alpha"),
        ({"min_samples": "many"}, "must be a number"),
        ({"approval_before": [30]}, "names no step"),
        ({"webhooks": ["ftp://x"]}, "http"),
        ({"colour": "red"}, "unknown key"),
        ({"gates": [{"metric": "vibes", "max_ratio": 1.0}]}, "unknown gate metric"),
    ],
)
def test_bad_policies_are_refused_with_a_reason(policy: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        RolloutPlan.from_dict(policy)
    with pytest.raises(InvalidInput):
        parse_steps("one,two")


def test_plan_round_trips_through_its_dict() -> None:
    plan = RolloutPlan.from_dict(
        {"steps": [5, 25, 100], "approval_before": [25], "webhooks": ["https://hooks.example/x"]}
    )
    assert RolloutPlan.from_dict(plan.to_dict()) == plan


def test_advance_needs_a_passing_decision_and_the_step_done() -> None:
    rollout = _rollout()
    assert rollout.weight == 100
    assert not rollout.requirements_met(10, T0 + timedelta(seconds=30))  # too early
    assert not rollout.requirements_met(9, T0 + timedelta(seconds=90))  # too few
    assert rollout.requirements_met(10, T0 + timedelta(seconds=90))
    held = rollout.decide(Decision.HOLD, 10, T0 + timedelta(seconds=90), ())
    assert held.kind is TransitionKind.HOLD
    moved = rollout.decide(Decision.ADVANCE, 10, T0 + timedelta(seconds=90), ())
    assert moved.kind is TransitionKind.ADVANCE
    assert moved.rollout.weight == 1000
    assert moved.rollout.seq == rollout.seq + 1
    assert moved.rollout.steps_log[0].ended_at == T0 + timedelta(seconds=90)


def test_the_last_advance_completes_and_the_alias_serves_the_candidate() -> None:
    rollout = _rollout({"steps": [50, 100]})
    done = rollout.decide(Decision.ADVANCE, 500, T0 + timedelta(hours=1), ()).rollout
    assert done.status is RolloutStatus.COMPLETED
    assert done.target().version == CANARY
    assert done.target().canary is None


def test_rollback_restores_stable_with_the_evidence() -> None:
    evidence = ({"metric": "error_rate", "verdict": "harm"},)
    t = _rollout().decide(Decision.ROLLBACK, 3, T0, evidence, harm="error_rate: 30% vs 2%")
    assert t.kind is TransitionKind.ROLLBACK
    assert t.rollout.status is RolloutStatus.ROLLED_BACK
    assert t.rollout.target().version == STABLE
    assert t.rollout.target().canary is None
    assert "error_rate" in (t.rollout.reason or "")
    assert t.rollout.evidence == evidence


def test_harm_rolls_back_even_while_paused() -> None:
    paused = _rollout().pause(T0).rollout
    assert paused.decide(Decision.ADVANCE, 99, T0 + timedelta(hours=1), ()).kind is (
        TransitionKind.HOLD
    )
    assert paused.decide(Decision.ROLLBACK, 99, T0, ()).kind is TransitionKind.ROLLBACK


def test_finished_rollouts_refuse_every_action() -> None:
    aborted = _rollout().abort(T0).rollout
    for action in (aborted.pause, aborted.resume, aborted.approve, aborted.abort):
        with pytest.raises(Conflict):
            action(T0)
    with pytest.raises(Conflict):
        aborted.decide(Decision.ADVANCE, 1, T0, ())


def test_approval_before_the_first_step_serves_nothing_until_approved() -> None:
    rollout = _rollout({"approval_before": [1]})
    assert rollout.status is RolloutStatus.AWAITING_APPROVAL
    assert rollout.weight == 0
    assert rollout.canary() is None
    started = rollout.approve(T0).rollout
    assert started.status is RolloutStatus.RUNNING
    assert started.weight == 100


def test_a_starved_step_pauses_at_its_max_duration() -> None:
    rollout = _rollout({"max_duration_s": 600, "min_duration_s": 60})
    t = rollout.decide(Decision.HOLD, 3, T0 + timedelta(seconds=601), ())
    assert t.kind is TransitionKind.STALL
    assert t.rollout.status is RolloutStatus.PAUSED
