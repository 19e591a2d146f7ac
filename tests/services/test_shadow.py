"""Shadow candidates through the service: every start and stop is an audited alias
revision, what is served never changes, and shadows survive flips, rollbacks and
rollouts (except a flip *to* the candidate, which ends its shadow)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from turnout.domain.access import LOCAL_ADMIN, Principal, Role
from turnout.domain.aliases import AliasAction
from turnout.domain.completions import Completion
from turnout.domain.ids import VersionId
from turnout.domain.shadow import ShadowPair
from turnout.errors import InvalidInput, NotFound, PermissionDenied
from turnout.services.registry import Registry

V1, V2, V3 = "sim/chat-001", "sim/chat-002", "sim/chat-003"
ALIAS = "prod-chat"
VIEWER = Principal("vic", Role.VIEWER)
OPERATOR = Principal("olga", Role.OPERATOR)


@pytest.fixture(autouse=True)
def _alias(registry: Registry, sim_versions: tuple[str, ...]) -> None:
    registry.aliases.set(LOCAL_ADMIN, ALIAS, V1)


def _audit_actions(registry: Registry) -> list[str]:
    return [e.action for e in registry.audit.entries(LOCAL_ADMIN, limit=None)]


def test_start_is_an_audited_revision_that_serves_the_same(registry: Registry) -> None:
    change = registry.shadow.start(OPERATOR, ALIAS, V2, sample=0.5, max_rps=3.0)
    revision = change.revision
    assert revision.action is AliasAction.SHADOW
    assert revision.target.version == VersionId.parse(V1)  # still serves V1
    assert [str(s.candidate) for s in revision.target.shadows] == [V2]
    assert revision.target.shadows[0].sample == 0.5
    assert revision.actor == "olga"
    assert "alias.shadow" in _audit_actions(registry)
    # again with another sample: the policy changes, no second shadow of V2
    registry.shadow.start(OPERATOR, ALIAS, V2, sample=1.0)
    shadows = registry.aliases.get(ALIAS).target.shadows
    assert [(str(s.candidate), s.sample) for s in shadows] == [(V2, 1.0)]


def test_stop_one_or_all(registry: Registry) -> None:
    registry.shadow.start(OPERATOR, ALIAS, V2)
    registry.shadow.start(OPERATOR, ALIAS, V3)
    registry.shadow.stop(OPERATOR, ALIAS, V2)
    assert registry.aliases.get(ALIAS).target.shadow_versions() == (VersionId.parse(V3),)
    registry.shadow.stop(OPERATOR, ALIAS)
    assert registry.aliases.get(ALIAS).target.shadows == ()
    with pytest.raises(NotFound, match="has no shadow running"):
        registry.shadow.stop(OPERATOR, ALIAS)


def test_bad_requests_are_refused_and_write_nothing(registry: Registry) -> None:
    before = registry.aliases.get(ALIAS).revision
    audit_before = len(_audit_actions(registry))
    with pytest.raises(NotFound, match="is not registered"):
        registry.shadow.start(OPERATOR, ALIAS, "sim/chat-999")
    with pytest.raises(InvalidInput, match="already serves"):
        registry.shadow.start(OPERATOR, ALIAS, V1)
    with pytest.raises(InvalidInput, match="sample"):
        registry.shadow.start(OPERATOR, ALIAS, V2, sample=0)
    with pytest.raises(InvalidInput, match=r"floating|pinned"):
        registry.shadow.start(OPERATOR, ALIAS, "openai/gpt-4o")
    with pytest.raises(NotFound, match="does not exist"):
        registry.shadow.start(OPERATOR, "nope", V2)
    with pytest.raises(PermissionDenied):
        registry.shadow.start(VIEWER, ALIAS, V2)
    with pytest.raises(NotFound, match="is not shadowing"):
        registry.shadow.stop(OPERATOR, ALIAS, V2)
    assert registry.aliases.get(ALIAS).revision == before
    assert len(_audit_actions(registry)) == audit_before


def test_a_protected_alias_needs_a_deployer_and_a_reason(registry: Registry) -> None:
    registry.aliases.protect(LOCAL_ADMIN, ALIAS, True, "prod")
    with pytest.raises(PermissionDenied):
        registry.shadow.start(OPERATOR, ALIAS, V2, reason="try it")
    deployer = Principal("dee", Role.DEPLOYER)
    with pytest.raises(PermissionDenied, match="needs --reason"):
        registry.shadow.start(deployer, ALIAS, V2, reason=" ")
    change = registry.shadow.start(deployer, ALIAS, V2, reason="compare before the upgrade")
    assert change.revision.reason == "compare before the upgrade"


def test_shadows_survive_flips_and_rollbacks_but_not_a_flip_to_the_candidate(
    registry: Registry,
) -> None:
    registry.shadow.start(OPERATOR, ALIAS, V3)
    registry.aliases.set(OPERATOR, ALIAS, V2)
    target = registry.aliases.get(ALIAS).target
    assert (str(target.version), target.shadow_versions()) == (V2, (VersionId.parse(V3),))
    registry.aliases.rollback(OPERATOR, ALIAS)  # back to V1, shadow kept
    target = registry.aliases.get(ALIAS).target
    assert (str(target.version), target.shadow_versions()) == (V1, (VersionId.parse(V3),))
    registry.aliases.set(OPERATOR, ALIAS, V3)  # the candidate is promoted: its shadow ends
    assert registry.aliases.get(ALIAS).target.shadows == ()


def test_a_rollout_keeps_the_shadows(registry: Registry) -> None:
    registry.shadow.start(OPERATOR, ALIAS, V3)
    rollout = registry.rollouts.start(OPERATOR, ALIAS, V2, [10, 100])
    target = registry.aliases.get(ALIAS).target
    assert target.canary is not None
    assert target.canary.rollout_id == rollout.id
    assert target.shadow_versions() == (VersionId.parse(V3),)
    registry.rollouts.abort(OPERATOR, ALIAS, "enough")
    target = registry.aliases.get(ALIAS).target
    assert target.canary is None
    assert target.shadow_versions() == (VersionId.parse(V3),)


def _pair(i: int, at: datetime, candidate: str = V2, error: str | None = None) -> ShadowPair:
    return ShadowPair(
        request_id=f"req_{i:04d}",
        at=at,
        alias=ALIAS,
        messages=[{"role": "user", "content": f"q{i}"}],
        primary=Completion(V1, f"a{i}", 10.0 + i, tokens_in=5, tokens_out=i, cost_usd=0.001),
        candidate=Completion(candidate, f"b{i}", 20.0 + i, ttft_ms=3.0, error=error),
        stream=i % 2 == 1,
        params={"temperature": 0.2},
    )


def test_pairs_round_trip_through_the_store_and_count_in_status(
    registry: Registry, clock: object
) -> None:
    registry.shadow.start(OPERATOR, ALIAS, V2)
    now = registry.ctx.now()
    pairs = [_pair(i, now - timedelta(minutes=10 - i)) for i in range(5)]
    pairs.append(_pair(99, now - timedelta(days=3)))  # outside a 1-day window
    pairs.append(_pair(7, now - timedelta(minutes=1), candidate=V3, error="provider_error"))
    registry.ctx.store.log_shadow_pairs(pairs)

    stored = registry.shadow.pairs(ALIAS, V2, since=now - timedelta(days=1))
    assert [p.request_id for p in stored] == [f"req_{i:04d}" for i in range(5)]  # oldest first
    assert stored[3] == pairs[3]  # every field survives, datetimes included
    assert registry.shadow.pairs(ALIAS, V2, limit=2)[-1].request_id == "req_0004"  # newest 2

    status = registry.shadow.status(ALIAS).to_dict()
    rows = {row["candidate"]: row for row in status["candidates"]}  # type: ignore[union-attr]
    assert rows[V2]["pairs"] == 5
    assert rows[V2]["active"] is True
    assert rows[V3]["pairs"] == 1
    assert rows[V3]["active"] is False
    assert rows[V3]["candidate_errors"] == 1
    assert registry.shadow.status(ALIAS, window=None).to_dict()["candidates"][0]["pairs"] == 6  # type: ignore[index]
    with pytest.raises(InvalidInput, match="limit"):
        registry.shadow.pairs(ALIAS, limit=0)
    with pytest.raises(NotFound):
        registry.shadow.pairs("nope")
    assert stored[0].at.tzinfo is not None
    assert stored[0].at <= datetime.now(UTC) + timedelta(1)
