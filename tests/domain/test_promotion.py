"""The promotion decision: every missing piece of evidence is named, with its fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from turnout.domain.promotion import (
    PromotionPolicy,
    RunEvidence,
    SuiteEvidence,
    decide_promotion,
)
from turnout.errors import InvalidInput

NOW = datetime(2026, 11, 25, tzinfo=UTC)
NEW, OLD = "openai/gpt-4.1-2025-04-14", "openai/gpt-4o-2024-11-20"


def _run(run_id: int, score: float, days_old: float = 1.0, suite_hash: str = "h1") -> RunEvidence:
    return RunEvidence(run_id, suite_hash, score, NOW - timedelta(days=days_old))


def _decide(policy: PromotionPolicy, suites: list[SuiteEvidence], pairs: int = 0) -> list[str]:
    return list(decide_promotion(policy, NEW, OLD, suites, pairs, NOW, "prod-chat").missing)


def test_a_passing_run_no_worse_than_current_is_enough() -> None:
    policy = PromotionPolicy(("qa",), min_score=0.8, max_regression=0.02)
    decision = decide_promotion(
        policy, NEW, OLD, [SuiteEvidence("qa", _run(2, 0.90), _run(1, 0.91))], 0, NOW, "a"
    )
    assert decision.allowed
    assert decision.scores == {"eval:qa": 0.90}


@pytest.mark.parametrize(
    ("evidence", "fragment"),
    [
        (SuiteEvidence("qa", None, None), "an eval run of suite 'qa' on " + NEW),
        (SuiteEvidence("qa", _run(2, 0.9, days_old=45), _run(1, 0.9)), "newer than 30 days"),
        (SuiteEvidence("qa", _run(2, 0.7), _run(1, 0.7)), "below the required 0.8"),
        (SuiteEvidence("qa", _run(2, 0.85), _run(1, 0.95)), "more than 0.02 below"),
        (SuiteEvidence("qa", _run(2, 0.9), None), "on the current version " + OLD),
    ],
)
def test_each_missing_piece_is_named(evidence: SuiteEvidence, fragment: str) -> None:
    missing = _decide(PromotionPolicy(("qa",), min_score=0.8, max_regression=0.02), [evidence])
    assert len(missing) == 1
    assert fragment in missing[0]
    assert "turnout eval run" in missing[0] or "scored" in missing[0]


def test_all_problems_are_listed_at_once() -> None:
    policy = PromotionPolicy(("qa", "safety"), min_shadow_pairs=100)
    missing = _decide(policy, [SuiteEvidence("qa", None, None)], pairs=40)
    assert len(missing) == 3  # qa, safety (no evidence at all), shadow pairs
    assert "has 40" in missing[2]
    assert "turnout shadow start prod-chat --candidate " + NEW in missing[2]


def test_a_new_alias_has_nothing_to_compare_with() -> None:
    decision = decide_promotion(
        PromotionPolicy(("qa",)), NEW, None, [SuiteEvidence("qa", _run(1, 0.5), None)], 0, NOW, "a"
    )
    assert decision.allowed


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "needs suites or min_shadow_pairs"),
        ({"suites": ["qa", "qa"]}, "twice"),
        ({"suites": ["qa"], "min_score": 2}, "min_score"),
        ({"suites": ["qa"], "max_regression": -0.1}, "max_regression"),
        ({"suites": ["qa"], "colour": "red"}, "unknown key"),
        ({"suites": "qa"}, "list of suite names"),
        ({"min_shadow_pairs": "many"}, "must be a number"),
    ],
)
def test_bad_policies_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        PromotionPolicy.from_dict(data)


def test_policy_round_trips() -> None:
    policy = PromotionPolicy(("qa",), 0.8, 0.01, 50, 14.0)
    assert PromotionPolicy.from_dict(policy.to_dict()) == policy
