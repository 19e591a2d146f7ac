"""Suites and runs as values: the content hash, default scorers, aggregates and comparison."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from turnout.domain.eval_runs import (
    CaseResult,
    EvalAggregate,
    EvalRun,
    ScoreItem,
    compare_runs,
    weighted_score,
)
from turnout.domain.eval_suite import EvalCase, EvalSuite, ScorerSpec
from turnout.errors import InvalidInput

USER = ({"role": "user", "content": "What is 2 + 2?"},)


def _suite(*cases: EvalCase, scorers: tuple[ScorerSpec, ...] = ()) -> EvalSuite:
    return EvalSuite("s", cases, scorers)


def test_the_hash_is_stable_and_covers_what_is_graded() -> None:
    case = EvalCase("a", USER, expected="4")
    suite = _suite(case)
    # a known value: the canonical JSON is part of the contract (stored runs cite it)
    assert suite.suite_hash == "41d01c1370ac956eab079998745bef5777bdf73d0ad08171684bf9d28149ae6f"
    assert suite.suite_hash == _suite(EvalCase("a", USER, expected="4")).suite_hash
    renamed = EvalSuite("other-name", (case,))
    assert renamed.suite_hash == suite.suite_hash
    changed = [
        _suite(replace(case, expected="5")),
        _suite(replace(case, messages=({"role": "user", "content": "What is 2 + 3?"},))),
        _suite(case, scorers=(ScorerSpec("numeric"),)),
        _suite(replace(case, scorers=(ScorerSpec("exact", weight=2.0),))),
        _suite(replace(case, params={"temperature": 0})),
        _suite(case, EvalCase("b", USER, expected="4")),
    ]
    assert len({suite.suite_hash, *(other.suite_hash for other in changed)}) == 7


def test_key_order_in_messages_does_not_change_the_hash() -> None:
    a = _suite(EvalCase("a", ({"role": "user", "content": "hi"},), expected="x"))
    b = _suite(EvalCase("a", ({"content": "hi", "role": "user"},), expected="x"))
    assert a.suite_hash == b.suite_hash


def test_implicit_scorers_follow_what_the_case_gives() -> None:
    schema = {"type": "object"}
    suite = _suite(
        EvalCase("a", USER, expected="4"),
        EvalCase("b", USER, schema=schema),
        EvalCase("c", USER, expected="4", scorers=(ScorerSpec("numeric"),)),
    )
    names = [[s.name for s in suite.scorers_for(case)] for case in suite.cases]
    assert names == [["exact"], ["json_schema"], ["numeric"]]
    defaulted = _suite(EvalCase("a", USER, expected="4"), scorers=(ScorerSpec("contains"),))
    assert [s.name for s in defaulted.scorers_for(defaulted.cases[0])] == ["contains"]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: EvalCase("a b", USER, expected="4"), "case id"),
        (lambda: EvalCase("a", (), expected="4"), "at least one message"),
        (lambda: EvalCase("a", ({"role": "robot", "content": "x"},)), "role must be"),
        (lambda: EvalCase("a", ({"role": "assistant", "content": "x"},)), "last message"),
        (lambda: ScorerSpec("exact", weight=0), "positive"),
        (lambda: _suite(EvalCase("a", USER)), "nothing to score"),
        (lambda: _suite(EvalCase("a", USER, "1"), EvalCase("a", USER, "1")), "used twice"),
        (lambda: EvalSuite("bad name", (EvalCase("a", USER, "1"),)), "suite name"),
        (lambda: EvalSuite("s", ()), "at least one case"),
        (lambda: _suite(EvalCase("a", USER), scorers=(ScorerSpec("exact"),)), "expected"),
    ],
)
def test_invalid_values_are_refused(build: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        build()  # type: ignore[operator]


def test_judge_versions_need_a_version_somewhere() -> None:
    judged = _suite(EvalCase("a", USER, scorers=(ScorerSpec("judge"),)))
    with pytest.raises(InvalidInput, match="--judge"):
        judged.judge_versions(None)
    assert judged.judge_versions("sim/judge-001") == ("sim/judge-001",)
    named = _suite(
        EvalCase("a", USER, scorers=(ScorerSpec("judge", options={"version": "sim/j-002"}),))
    )
    assert named.judge_versions("sim/judge-001") == ("sim/j-002",)


def _result(case_id: str, score: float, error: str | None = None) -> CaseResult:
    return CaseResult(case_id, "", (ScoreItem("exact", 1.0, score),), score, 10.0, error=error)


def _run(results: list[CaseResult], suite_hash: str = "h" * 64) -> EvalRun:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return EvalRun(
        1,
        "s",
        suite_hash,
        "sim/x-001",
        None,
        at,
        at,
        EvalAggregate.of(results, 0.5),
        tuple(results),
    )


def test_weighted_score_and_aggregate() -> None:
    items = [ScoreItem("a", 3.0, 1.0), ScoreItem("b", 1.0, 0.0)]
    assert weighted_score(items) == pytest.approx(0.75)
    aggregate = EvalAggregate.of(
        [_result("1", 1.0), _result("2", 0.5), _result("3", 0.0, error="boom")], 0.5
    )
    assert (aggregate.cases, aggregate.passed, aggregate.errors) == (3, 2, 1)
    assert aggregate.mean_score == pytest.approx(0.5)
    assert aggregate.pass_rate == pytest.approx(2 / 3)
    assert aggregate.total_cost_usd is None


def test_compare_pairs_by_case_id() -> None:
    a = _run([_result("1", 0.0), _result("2", 1.0), _result("3", 0.5), _result("only-a", 1.0)])
    b = _run(
        [_result("3", 1.0), _result("2", 1.0), _result("1", 1.0), _result("only-b", 0.0)],
        suite_hash="g" * 64,
    )
    comparison = compare_runs(a, b)
    assert {p.case_id: p.difference for p in comparison.pairs} == {"1": 1.0, "2": 0.0, "3": 0.5}
    assert (comparison.wins, comparison.losses, comparison.ties) == (2, 0, 1)
    assert comparison.interval is not None
    assert comparison.interval.mean == pytest.approx(0.5)
    assert comparison.only_a == ("only-a",)
    assert comparison.only_b == ("only-b",)
    assert any("suite hashes differ" in note for note in comparison.notes)
    same = compare_runs(a, a)
    assert same.notes == ()
