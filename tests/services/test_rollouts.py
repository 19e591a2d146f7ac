"""Rollouts end to end at the service level, on SQLite and PostgreSQL.

Traffic is written straight into the request log (as the gateway's writer
would), the clock is fake, and the controller's look is called by hand: every
transition of the state machine is driven by evidence, never by sleeping.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.conftest import FakeClock
from tests.support.rollouts import ALIAS, CANARY, FAST, FAST_PLAN, STABLE, Traffic

from turnout.domain.access import LOCAL_ADMIN, Principal, Role
from turnout.domain.aliases import AliasAction, AliasTarget
from turnout.domain.ids import VersionId
from turnout.domain.plan import ChangeKind, DesiredAlias, DesiredState
from turnout.domain.requests import RequestRecord
from turnout.domain.rollouts import RolloutPlan, RolloutStatus, TransitionKind
from turnout.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from turnout.services.context import ServiceContext
from turnout.services.registry import Registry
from turnout.services.rollouts import RolloutService
from turnout.store import SqlStore


def test_start_splits_the_alias_and_records_it(rollout_setup: Registry) -> None:
    rollout = rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY, reason="new model")
    alias = rollout_setup.aliases.get(ALIAS)
    assert alias.target.version.__str__() == STABLE
    assert alias.target.canary is not None
    assert alias.target.canary.weight == 100  # 1 % in basis points
    assert alias.target.canary.rollout_id == rollout.id
    last = rollout_setup.aliases.history(ALIAS)[-1]
    assert last.action is AliasAction.ROLLOUT
    assert "new model" in (last.reason or "")
    actions = [entry.action for entry in rollout_setup.audit.entries(LOCAL_ADMIN, 5)]
    assert "rollout.start" in actions


def test_a_second_rollout_on_the_same_alias_is_refused(rollout_setup: Registry) -> None:
    rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY)
    with pytest.raises(Conflict, match="abort it first"):
        rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY)


def test_bad_starts_are_refused_and_write_nothing(rollout_setup: Registry) -> None:
    with pytest.raises(NotFound):
        rollout_setup.rollouts.start(LOCAL_ADMIN, "nope", CANARY)
    with pytest.raises(InvalidInput, match="nothing to roll out"):
        rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, STABLE)
    with pytest.raises(NotFound, match="not registered"):
        rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, "sim/ghost-2026-03-01")
    with pytest.raises(InvalidInput, match="100%"):
        rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY, steps=[1, 10])
    viewer = Principal("viewer", Role.VIEWER)
    with pytest.raises(PermissionDenied):
        rollout_setup.rollouts.start(viewer, ALIAS, CANARY)
    assert rollout_setup.rollouts.history(ALIAS) == []
    assert rollout_setup.aliases.get(ALIAS).target.canary is None


def test_no_traffic_holds_and_never_rolls_back(rollout_setup: Registry, clock: FakeClock) -> None:
    rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY)
    clock.advance(600)
    assert rollout_setup.rollouts.tick() == []
    assert rollout_setup.rollouts.latest(ALIAS).status is RolloutStatus.RUNNING


def test_a_healthy_canary_walks_every_step_to_completion(
    rollout_setup: Registry, traffic: Traffic, clock: FakeClock
) -> None:
    rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY, plan=None, steps=None)
    rollout_setup.rollouts.abort(LOCAL_ADMIN, ALIAS)  # an aborted rollout can be retried
    rollout = rollout_setup.rollouts.start(
        LOCAL_ADMIN, ALIAS, CANARY, plan=RolloutPlan.from_dict(FAST)
    )
    kinds = []
    for _ in range(400):
        traffic.serve(200, 0.02, 0.02)
        clock.advance(5)
        kinds += [t.kind for t in rollout_setup.rollouts.tick()]
        if not rollout_setup.rollouts.latest(ALIAS).status.active:
            break
    assert kinds == [TransitionKind.ADVANCE, TransitionKind.ADVANCE, TransitionKind.COMPLETE]
    done = rollout_setup.rollouts.latest(ALIAS)
    assert done.id == rollout.id
    assert done.status is RolloutStatus.COMPLETED
    alias = rollout_setup.aliases.get(ALIAS)
    assert str(alias.target.version) == CANARY
    assert alias.target.canary is None
    promoted = rollout_setup.versions.get(CANARY)
    assert promoted.promoted_at is not None
    assert "rollout.error_rate" in promoted.eval_scores  # the gates' figures at promotion


def test_a_regressing_canary_is_rolled_back_with_the_evidence(
    rollout_setup: Registry, traffic: Traffic, clock: FakeClock, store: SqlStore
) -> None:
    rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY, plan=RolloutPlan.from_dict(FAST))
    transitions = []
    for _ in range(200):
        traffic.serve(500, 0.02, 0.30)
        clock.advance(5)
        transitions += rollout_setup.rollouts.tick()
        if transitions:
            break
    assert [t.kind for t in transitions] == [TransitionKind.ROLLBACK]
    # a fresh process sees the same state: nothing lives in memory
    fresh = Registry(ServiceContext(store, rollout_setup.ctx.catalog, clock))
    rolled = fresh.rollouts.latest(ALIAS)
    assert rolled.status is RolloutStatus.ROLLED_BACK
    assert any(item["verdict"] == "harm" for item in rolled.evidence)
    alias = fresh.aliases.get(ALIAS)
    assert str(alias.target.version) == STABLE
    assert alias.target.canary is None
    last = fresh.aliases.history(ALIAS)[-1]
    assert last.action is AliasAction.AUTO_ROLLBACK
    assert "error_rate" in (last.reason or "")
    assert last.actor == "rollout-controller"
    assert fresh.rollouts.tick() == []


def test_two_controllers_looking_at_once_apply_one_decision(
    rollout_setup: Registry, traffic: Traffic, clock: FakeClock, store: SqlStore
) -> None:
    rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY, plan=RolloutPlan.from_dict(FAST))
    other = Registry(ServiceContext(store, rollout_setup.ctx.catalog, clock))
    for _ in range(100):
        traffic.serve(500, 0.02, 0.30)
        clock.advance(5)
        seen_by_both = rollout_setup.rollouts.latest(ALIAS)
        first = rollout_setup.rollouts.look(seen_by_both)
        if first is not None:
            with pytest.raises(Conflict):
                other.rollouts.look(seen_by_both)
            break
    else:
        pytest.fail("the regression was never detected")
    revisions = [r.action for r in rollout_setup.aliases.history(ALIAS)]
    assert revisions.count(AliasAction.AUTO_ROLLBACK) == 1


def test_pause_holds_resume_continues_abort_restores_stable(
    rollout_setup: Registry, traffic: Traffic, clock: FakeClock
) -> None:
    rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY, plan=RolloutPlan.from_dict(FAST))
    rollout_setup.rollouts.pause(LOCAL_ADMIN, ALIAS, reason="looking at dashboards")
    for _ in range(20):
        traffic.serve(1000, 0.02, 0.02)
        clock.advance(10)
        assert rollout_setup.rollouts.tick() == []  # healthy, but paused: no advance
    with pytest.raises(Conflict):
        rollout_setup.rollouts.pause(LOCAL_ADMIN, ALIAS)
    rollout_setup.rollouts.resume(LOCAL_ADMIN, ALIAS)
    assert [t.kind for t in rollout_setup.rollouts.tick()] == [TransitionKind.ADVANCE]
    assert rollout_setup.aliases.get(ALIAS).target.canary is not None
    rollout_setup.rollouts.abort(LOCAL_ADMIN, ALIAS, reason="changed our mind")
    alias = rollout_setup.aliases.get(ALIAS)
    assert str(alias.target.version) == STABLE
    assert alias.target.canary is None
    assert rollout_setup.rollouts.latest(ALIAS).status is RolloutStatus.ABORTED
    with pytest.raises(Conflict):
        rollout_setup.rollouts.abort(LOCAL_ADMIN, ALIAS)


def test_a_step_that_needs_approval_waits_for_it(
    rollout_setup: Registry, traffic: Traffic, clock: FakeClock
) -> None:
    policy = {**FAST, "approval_before": [50]}
    rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY, plan=RolloutPlan.from_dict(policy))
    kinds = []
    for _ in range(200):
        traffic.serve(300, 0.02, 0.02)
        clock.advance(10)
        kinds += [t.kind for t in rollout_setup.rollouts.tick()]
        if TransitionKind.AWAIT_APPROVAL in kinds:
            break
    assert kinds == [TransitionKind.ADVANCE, TransitionKind.AWAIT_APPROVAL]
    rollout = rollout_setup.rollouts.latest(ALIAS)
    assert rollout.status is RolloutStatus.AWAITING_APPROVAL
    assert rollout.weight == 1000  # still 10 % until someone approves
    rollout_setup.rollouts.approve(LOCAL_ADMIN, ALIAS, reason="dashboards look fine")
    assert rollout_setup.rollouts.latest(ALIAS).weight == 5000


def test_a_step_without_enough_traffic_stalls_into_pause(
    rollout_setup: Registry, clock: FakeClock
) -> None:
    rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY, plan=RolloutPlan.from_dict(FAST))
    clock.advance(timedelta(hours=2).total_seconds())
    [stall] = rollout_setup.rollouts.tick()
    assert stall.kind is TransitionKind.STALL
    paused = rollout_setup.rollouts.latest(ALIAS)
    assert paused.status is RolloutStatus.PAUSED
    assert "max duration" in (paused.reason or "")


def test_a_hand_flip_mid_rollout_wins_and_ends_the_rollout(rollout_setup: Registry) -> None:
    rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY, plan=RolloutPlan.from_dict(FAST))
    rollout_setup.aliases.set(LOCAL_ADMIN, ALIAS, STABLE, reason="incident: pin stable now")
    [ended] = rollout_setup.rollouts.tick()
    assert ended.kind is TransitionKind.ABORT
    rollout = rollout_setup.rollouts.latest(ALIAS)
    assert rollout.status is RolloutStatus.ABORTED
    assert "changed outside the rollout" in (rollout.reason or "")
    alias = rollout_setup.aliases.get(ALIAS)
    assert alias.target.canary is None
    assert (
        rollout_setup.aliases.history(ALIAS)[-1].reason == "incident: pin stable now"
    )  # untouched


def test_config_with_a_rollout_policy_starts_a_rollout_instead_of_flipping(
    rollout_setup: Registry,
) -> None:
    wanted = DesiredState(
        aliases=(DesiredAlias(ALIAS, AliasTarget(VersionId.parse(CANARY)), rollout=FAST_PLAN),)
    )
    plan = rollout_setup.config.plan(LOCAL_ADMIN, wanted)
    assert [c.kind for c in plan.changes] == [ChangeKind.ROLLOUT_ALIAS]
    assert "gradual rollout 1% -> 10% -> 50% -> 100%" in plan.changes[0].describe()
    assert rollout_setup.rollouts.history(ALIAS) == []  # plan writes nothing
    rollout_setup.config.apply(LOCAL_ADMIN, wanted, reason="config: new model")
    rollout = rollout_setup.rollouts.latest(ALIAS)
    assert (rollout.status, str(rollout.candidate)) == (RolloutStatus.RUNNING, CANARY)
    alias = rollout_setup.aliases.get(ALIAS)
    assert str(alias.target.version) == STABLE  # not flipped: split at 1 %
    assert alias.target.canary is not None
    # re-applying the same file mid-rollout is a no-op, not a flip to the candidate
    assert rollout_setup.config.plan(LOCAL_ADMIN, wanted).changes == ()


def test_a_restart_mid_step_carries_on_where_it_stood(
    rollout_setup: Registry, traffic: Traffic, clock: FakeClock, store: SqlStore
) -> None:
    rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY, plan=FAST_PLAN)
    kinds: list[TransitionKind] = []
    while not kinds:
        traffic.serve(300, 0.02, 0.02)
        clock.advance(5)
        kinds += [t.kind for t in rollout_setup.rollouts.tick()]
    assert kinds == [TransitionKind.ADVANCE]
    # every process restarts: a new registry, nothing carried over in memory
    restarted = Registry(ServiceContext(store, rollout_setup.ctx.catalog, clock))
    restarted.rollouts = RolloutService(restarted.ctx, restarted.aliases, store, lambda: "x")
    assert restarted.rollouts.latest(ALIAS).weight == 1000
    traffic.registry = restarted
    for _ in range(200):
        traffic.serve(300, 0.02, 0.02)
        clock.advance(5)
        kinds += [t.kind for t in restarted.rollouts.tick()]
        if not restarted.rollouts.latest(ALIAS).status.active:
            break
    assert kinds == [TransitionKind.ADVANCE, TransitionKind.ADVANCE, TransitionKind.COMPLETE]


def test_a_completed_rollout_stamps_the_promotion_evidence(
    rollout_setup: Registry, traffic: Traffic, clock: FakeClock
) -> None:
    from tests.support.evals import store_eval_run

    from turnout.domain.promotion import PromotionPolicy

    policy = PromotionPolicy(("qa",), max_regression=0.1)
    rollout_setup.aliases.set_promotion(LOCAL_ADMIN, ALIAS, policy, "evidence first")
    store_eval_run(rollout_setup, STABLE, 0.9)
    store_eval_run(rollout_setup, CANARY, 0.85)
    rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY, plan=RolloutPlan.from_dict(FAST))
    for _ in range(400):
        traffic.serve(200, 0.02, 0.02)
        clock.advance(5)
        rollout_setup.rollouts.tick()
        if not rollout_setup.rollouts.latest(ALIAS).status.active:
            break
    assert rollout_setup.rollouts.latest(ALIAS).status is RolloutStatus.COMPLETED
    alias = rollout_setup.aliases.get(ALIAS)
    assert alias.target.promotion == policy  # the policy outlives the rollout
    assert rollout_setup.versions.get(CANARY).eval_scores["eval:qa"] == pytest.approx(0.85)


def test_status_at_replays_what_the_controller_saw_at_that_time(
    rollout_setup: Registry, traffic: Traffic, clock: FakeClock
) -> None:
    policy = {
        **FAST,
        "gates": [
            {"metric": "error_rate", "max_ratio": 1.0},
            {"metric": "latency_p95", "max_ratio": 1.2},
        ],
    }
    service = rollout_setup.rollouts
    service.start(LOCAL_ADMIN, ALIAS, CANARY, plan=RolloutPlan.from_dict(policy))
    seen = []
    for _ in range(400):
        traffic.serve(200, 0.02, 0.02)
        clock.advance(5)
        live = service.status(ALIAS)  # what a look at this moment judges
        seen.append((clock.now, [r.to_dict() for r in live.results], live.canary_requests))
        service.tick()
        if not service.latest(ALIAS).status.active:
            break
    done = service.latest(ALIAS)
    assert done.status is RolloutStatus.COMPLETED
    assert len(done.steps_log) == 3  # 1 %, 10 %, 50 %: the replay crosses every step
    for at, results, canary in seen:
        replayed = service.status_at(done, at)
        assert [r.to_dict() for r in replayed.results] == results, at
        assert replayed.canary_requests == canary
    before = service.status_at(done, done.started_at)
    assert before.canary_requests == before.stable_requests == 0
    assert service.status_at(done, clock.advance(60)) == service.status(ALIAS)


def test_the_stable_latency_sample_survives_interleaved_aliases(
    rollout_setup: Registry, store: SqlStore, clock: FakeClock
) -> None:
    """Thinning picks every n-th row of the arm, not rows whose global id is a multiple
    of n: with two other aliases taking turns, the latter would sample nothing."""
    from turnout.domain.requests import RequestRecord

    rollout = rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY, steps=[10, 100])
    now = clock.now

    def record(i: int, alias: str, version: str, arm: str) -> RequestRecord:
        return RequestRecord(
            f"req_{i:06d}",
            now,
            alias,
            version,
            arm,
            None,
            200,
            None,
            10.0 + i % 7,
            None,
            None,
            None,
            None,
            False,
        )

    records = []
    for i in range(300):  # this alias's stable row, then two rows of other aliases
        records.append(record(3 * i, ALIAS, STABLE, "stable"))
        records.append(record(3 * i + 1, "other-a", STABLE, "stable"))
        records.append(record(3 * i + 2, "other-b", STABLE, "stable"))
    records += [record(10_000 + i, ALIAS, CANARY, "canary") for i in range(100)]
    store.log_requests(records)
    clock.advance(1)
    evidence = store.observe(rollout_setup.rollouts.latest(ALIAS), clock.now).evidence
    assert evidence.stable.requests == 300
    assert len(evidence.stable.latency_sample) == 100  # every 3rd of 300: thin = 300 // 100
    assert len(evidence.canary.latency_sample) == 100
    assert rollout.id is not None


def test_feedback_counts_for_the_attempt_that_answered_not_a_failed_canary_attempt(
    rollout_setup: Registry, store: SqlStore, clock: FakeClock
) -> None:
    rollout = rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY)

    def row(request_id: str, version: str, arm: str, status: int) -> RequestRecord:
        return RequestRecord(
            request_id=request_id,
            at=clock.advance(0.01),
            alias=ALIAS,
            version=version,
            arm=arm,
            key_hash=None,
            status=status,
            error_class=None if status < 400 else "provider_error",
            latency_ms=100.0,
            ttft_ms=None,
            tokens_in=10,
            tokens_out=5,
            cost_usd=None,
            stream=False,
        )

    rescued, answered = f"req_{1:024x}", f"req_{2:024x}"
    store.log_requests(
        [
            row(rescued, CANARY, "canary", 502),  # the canary failed ...
            row(rescued, STABLE, "fallback", 200),  # ... and a fallback answered
            row(answered, CANARY, "canary", 200),
        ]
    )
    store.record_feedback(rescued, 0.0, "user", clock())
    store.record_feedback(answered, 1.0, "user", clock())
    evidence = store.observe(rollout, clock.advance(1)).evidence
    assert evidence.canary.quality.n == 1  # only the answer the canary gave
    assert evidence.canary.quality.mean == 1.0
