"""A promotion policy through the services, on both databases: a flip or a rollout to
a version without the evidence is refused (and writes nothing), with the evidence
it goes through and the scores are stamped; a rollback is never blocked."""

from __future__ import annotations

import pytest
from tests.support.evals import store_eval_run

from turnout.domain.access import LOCAL_ADMIN, Principal, Role
from turnout.domain.aliases import AliasAction
from turnout.domain.completions import Completion
from turnout.domain.promotion import PromotionPolicy
from turnout.domain.shadow import ShadowPair
from turnout.errors import NotFound, PermissionDenied, PromotionRefused
from turnout.services.registry import Registry

V1, V2, V3 = "sim/chat-001", "sim/chat-002", "sim/chat-003"
ALIAS = "prod-chat"
POLICY = PromotionPolicy(("qa",), min_score=0.8, max_regression=0.05)


@pytest.fixture(autouse=True)
def _alias(registry: Registry, sim_versions: tuple[str, ...]) -> None:
    registry.aliases.set(LOCAL_ADMIN, ALIAS, V1)
    registry.aliases.set_promotion(LOCAL_ADMIN, ALIAS, POLICY, "guard prod")


def _revisions(registry: Registry) -> int:
    return registry.aliases.get(ALIAS).revision


def test_setting_the_policy_is_a_revision_that_serves_the_same(registry: Registry) -> None:
    alias = registry.aliases.get(ALIAS)
    assert alias.target.promotion == POLICY
    assert str(alias.target.version) == V1
    assert registry.aliases.history(ALIAS)[-1].action is AliasAction.POLICY
    with pytest.raises(PermissionDenied):
        registry.aliases.set_promotion(Principal("o", Role.OPERATOR), ALIAS, POLICY)
    with pytest.raises(PermissionDenied):  # clearing needs an admin
        registry.aliases.set_promotion(Principal("d", Role.DEPLOYER), ALIAS, None, "x")


def test_a_flip_without_evidence_is_refused_with_what_is_missing(registry: Registry) -> None:
    before = _revisions(registry)
    with pytest.raises(PromotionRefused, match=r"an eval run of suite 'qa' on sim/chat-002"):
        registry.aliases.set(LOCAL_ADMIN, ALIAS, V2)
    store_eval_run(registry, V2, 0.9)
    with pytest.raises(PromotionRefused, match=r"on the current version sim/chat-001"):
        registry.aliases.set(LOCAL_ADMIN, ALIAS, V2)
    store_eval_run(registry, V1, 0.99)
    with pytest.raises(PromotionRefused, match=r"more than 0.05 below"):
        registry.aliases.set(LOCAL_ADMIN, ALIAS, V2)
    assert _revisions(registry) == before  # nothing written by a refusal


def test_with_evidence_the_flip_goes_through_and_the_scores_are_stamped(
    registry: Registry,
) -> None:
    store_eval_run(registry, V1, 0.90)
    store_eval_run(registry, V1, 0.50, suite_hash="other")  # another suite content: ignored
    store_eval_run(registry, V2, 0.88)
    change = registry.aliases.set(LOCAL_ADMIN, ALIAS, V2)
    assert str(change.revision.target.version) == V2
    assert change.revision.target.promotion == POLICY  # the policy stays with the alias
    assert registry.versions.get(V2).eval_scores["eval:qa"] == pytest.approx(0.88)


def test_a_rollback_is_never_blocked(registry: Registry) -> None:
    store_eval_run(registry, V1, 0.9)
    store_eval_run(registry, V2, 0.9)
    registry.aliases.set(LOCAL_ADMIN, ALIAS, V2)
    registry.aliases.rollback(LOCAL_ADMIN, ALIAS)  # V1 has no run newer... never checked
    assert str(registry.aliases.get(ALIAS).target.version) == V1


def test_a_rollout_is_checked_when_it_starts(registry: Registry) -> None:
    with pytest.raises(PromotionRefused, match="sim/chat-003"):
        registry.rollouts.start(LOCAL_ADMIN, ALIAS, V3, [50, 100])
    with pytest.raises(NotFound):  # nothing was started
        registry.rollouts.latest(ALIAS)
    store_eval_run(registry, V1, 0.9)
    store_eval_run(registry, V3, 0.9)
    rollout = registry.rollouts.start(LOCAL_ADMIN, ALIAS, V3, [50, 100])
    assert str(rollout.candidate) == V3
    assert registry.aliases.get(ALIAS).target.canary is not None


def test_shadow_pairs_count_as_evidence(registry: Registry) -> None:
    registry.aliases.set_promotion(
        LOCAL_ADMIN, ALIAS, PromotionPolicy(min_shadow_pairs=3), "shadow first"
    )
    with pytest.raises(PromotionRefused, match="has 0"):
        registry.aliases.set(LOCAL_ADMIN, ALIAS, V2)
    now = registry.ctx.now()
    registry.ctx.store.log_shadow_pairs(
        [
            ShadowPair(
                f"req_{i}",
                now,
                ALIAS,
                [{"role": "user", "content": "hi"}],
                Completion(V1, "a", 1.0),
                Completion(V2, "a", 1.0),
            )
            for i in range(3)
        ]
    )
    registry.aliases.set(LOCAL_ADMIN, ALIAS, V2)
    assert registry.versions.get(V2).eval_scores["shadow:pairs"] == 3.0


def test_clearing_the_policy(registry: Registry) -> None:
    registry.aliases.set_promotion(LOCAL_ADMIN, ALIAS, None, "no longer")
    registry.aliases.set(LOCAL_ADMIN, ALIAS, V2)  # no evidence needed now
    with pytest.raises(NotFound, match="no promotion policy"):
        registry.aliases.set_promotion(LOCAL_ADMIN, ALIAS, None, "again")


def test_config_declares_shadows_and_policy_and_reapplying_changes_nothing(
    registry: Registry,
) -> None:
    from turnout.config_file import parse_config

    text = f"""\
versions:
  - id: {V1}
  - id: {V2}
  - id: {V3}
aliases:
  {ALIAS}:
    version: {V1}
    shadow:
      - {{candidate: {V3}, sample: 0.5}}
    promotion: {{suites: [qa], max_regression: 0.1}}
"""
    desired = parse_config(text, "turnout.yaml")
    plan = registry.config.apply(LOCAL_ADMIN, desired, reason="config")
    kinds = [c.kind.value for c in plan.changes]
    assert kinds == ["policy_alias", "shadow_alias"]
    target = registry.aliases.get(ALIAS).target
    assert target.shadow_versions()[0] == target.shadows[0].candidate
    assert str(target.shadows[0].candidate) == V3
    assert target.promotion is not None
    assert target.promotion.max_regression == 0.1
    assert registry.config.plan(LOCAL_ADMIN, desired).changes == ()  # converged

    # a flip declared beside the policy is held to it, all or nothing
    flipped = parse_config(text.replace(f"version: {V1}", f"version: {V2}"), "turnout.yaml")
    before = registry.aliases.get(ALIAS).revision
    with pytest.raises(PromotionRefused):
        registry.config.apply(LOCAL_ADMIN, flipped, reason="bump")
    assert registry.aliases.get(ALIAS).revision == before

    # a file that does not mention shadows or promotion leaves them alone
    bare = parse_config(f"aliases:\n  {ALIAS}:\n    version: {V1}\n", "turnout.yaml")
    assert registry.config.plan(LOCAL_ADMIN, bare).changes == ()


def test_a_new_fallback_needs_the_policy_suites_evidence(registry: Registry) -> None:
    before = registry.aliases.get(ALIAS).revision
    with pytest.raises(PromotionRefused, match=r"new fallback .* suite 'qa' on sim/chat-003"):
        registry.aliases.set(LOCAL_ADMIN, ALIAS, V1, fallbacks=[V3])
    assert registry.aliases.get(ALIAS).revision == before
    store_eval_run(registry, V3, 0.4)  # any run of the suite: a fallback is not promoted
    change = registry.aliases.set(LOCAL_ADMIN, ALIAS, V1, fallbacks=[V3])
    assert [str(v) for v in change.revision.target.fallbacks] == [V3]
