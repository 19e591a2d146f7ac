"""Scoring shadow pairs: named comparators, the judge with a fake ModelCaller, bounds."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import pytest

from turnout.domain.comparators import ComparatorKind, builtin_registry
from turnout.domain.comparators.embedding import EmbeddingComparator
from turnout.domain.completions import Completion, Message
from turnout.domain.shadow import ShadowPair
from turnout.errors import InvalidInput
from turnout.services.judge import Judge, PairGrade
from turnout.services.judge_comparator import JudgeComparator, agreement_of
from turnout.services.shadow_compare import (
    DEFAULT_COMPARATORS,
    comparator_kinds,
    compare_pairs,
)

pytestmark = pytest.mark.anyio

JUDGE_VERSION = "sim/judge-2025-01-01"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_pair(
    i: int, primary: str, candidate: str, candidate_error: str | None = None
) -> ShadowPair:
    return ShadowPair(
        request_id=f"r{i}",
        at=datetime(2026, 1, 15, 9, i, tzinfo=UTC),
        alias="prod-chat",
        messages=[{"role": "user", "content": f"question {i}"}],
        primary=Completion("sim/chat-001", primary, 100.0, tokens_out=4),
        candidate=Completion(
            "sim/chat-002", "" if candidate_error else candidate, 130.0, None, None, 6, None,
            candidate_error,
        ),
    )  # fmt: skip


class FakeCaller:
    """A ModelCaller that answers from a script and records the peak of calls in flight."""

    def __init__(self, reply: str = "SCORE_A: 1.0\nSCORE_B: 0.8", error: str | None = None):
        self.reply = reply
        self.error = error
        self.calls: list[tuple[str, list[Message], Mapping[str, object] | None]] = []
        self.in_flight = 0
        self.peak = 0

    async def call(
        self,
        version: str,
        messages: Sequence[Message],
        params: Mapping[str, object] | None = None,
        *,
        timeout_s: float = 60.0,
    ) -> Completion:
        self.calls.append((version, list(messages), params))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        for _ in range(5):  # yield so that every other ready task gets to start its call
            await asyncio.sleep(0)
        self.in_flight -= 1
        if self.error:
            return Completion(version, "", 1.0, error=self.error)
        return Completion(version, self.reply, 1.0)

    async def aclose(self) -> None:
        return None


PAIRS = [
    make_pair(0, "Paris", "Paris"),
    make_pair(1, "Paris.", "paris"),
    make_pair(2, '{"a": 1}', '{"a": 2}'),
    make_pair(3, "42", "", candidate_error="timeout"),
]


async def test_compare_pairs_runs_the_named_comparators_in_order() -> None:
    scored = await compare_pairs(PAIRS, ["exact", "normalised", "json_equal", "latency_ms"])
    assert [pair.request_id for pair, _ in scored] == ["r0", "r1", "r2", "r3"]
    assert [scores for _, scores in scored] == [
        {"exact": 1.0, "normalised": 1.0, "json_equal": None, "latency_ms": 30.0},
        {"exact": 0.0, "normalised": 1.0, "json_equal": None, "latency_ms": 30.0},
        {"exact": 0.0, "normalised": 0.0, "json_equal": 0.0, "latency_ms": 30.0},
        {"exact": None, "normalised": None, "json_equal": None, "latency_ms": None},
    ]


async def test_default_comparators_are_every_builtin() -> None:
    assert set(DEFAULT_COMPARATORS) == set(builtin_registry().names())
    scored = await compare_pairs(PAIRS[:1], DEFAULT_COMPARATORS)
    assert list(scored[0][1]) == list(DEFAULT_COMPARATORS)
    assert await compare_pairs([], DEFAULT_COMPARATORS) == []


async def test_unknown_comparators_are_refused_before_anything_runs() -> None:
    caller = FakeCaller()
    judge = JudgeComparator(caller, JUDGE_VERSION)
    with pytest.raises(InvalidInput, match=r"unknown comparator 'exakt'; known: .*exact.*judge"):
        await compare_pairs(PAIRS, ["exakt"], judge)
    assert caller.calls == []
    with pytest.raises(InvalidInput, match="needs a judge model"):
        await compare_pairs(PAIRS, ["exact", "judge"], None)
    with pytest.raises(InvalidInput, match="concurrency"):
        await compare_pairs(PAIRS, ["exact"], None, concurrency=0)


async def test_a_registry_with_the_semantic_comparator() -> None:
    registry = builtin_registry()
    registry.register(EmbeddingComparator(lambda texts: [[1.0, 0.0] for _ in texts]))
    scored = await compare_pairs(PAIRS[1:2], ["embedding"], registry=registry)
    assert scored[0][1] == {"embedding": 1.0}
    kinds = comparator_kinds(["embedding", "latency_ms", "judge"], registry)
    assert kinds == {
        "embedding": (ComparatorKind.AGREEMENT, ""),
        "latency_ms": (ComparatorKind.DELTA, "ms"),
        "judge": (ComparatorKind.AGREEMENT, ""),
    }


async def test_judge_grades_each_pair_with_a_failed_side_skipped() -> None:
    caller = FakeCaller('{"score_a": 0.9, "score_b": 0.6}')
    judge = JudgeComparator(caller, JUDGE_VERSION)
    scored = await compare_pairs(PAIRS, ["exact"], judge)
    assert [scores["judge"] for _, scores in scored] == pytest.approx([0.7, 0.7, 0.7, None])
    assert len(caller.calls) == 3  # no judge call for the failed candidate
    version, messages, params = caller.calls[0]
    assert version == JUDGE_VERSION
    assert params == {"temperature": 0}
    # the shared judge's pair prompt: primary is answer A, candidate answer B
    assert messages == Judge.pair_messages("user: question 0", "Paris", "Paris")


async def test_a_judge_asked_in_both_orders_loses_its_first_answer_bias() -> None:
    biased = '{"score_a": 0.9, "score_b": 0.6}'  # whatever comes first gets 0.9
    once = JudgeComparator(FakeCaller(biased), JUDGE_VERSION)
    assert await once.compare(PAIRS[0]) == pytest.approx(0.7)
    caller = FakeCaller(biased)
    both = JudgeComparator(caller, JUDGE_VERSION, both_orders=True)
    assert await both.compare(PAIRS[0]) == pytest.approx(1.0)
    assert len(caller.calls) == 2


async def test_judge_failure_or_no_grade_scores_nothing() -> None:
    failing = JudgeComparator(FakeCaller(error="upstream 500"), JUDGE_VERSION)
    assert await failing.compare(PAIRS[0]) is None
    mute = JudgeComparator(FakeCaller("SCORE_A: 0.9 and no second grade"), JUDGE_VERSION)
    assert await mute.compare(PAIRS[0]) is None


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_compare_pairs_bounds_judge_calls_in_flight(concurrency: int) -> None:
    caller = FakeCaller()
    judge = JudgeComparator(caller, JUDGE_VERSION, concurrency=10)
    many = [make_pair(i, "a", "b") for i in range(12)]
    scored = await compare_pairs(many, [], judge, concurrency=concurrency)
    assert len(caller.calls) == 12
    assert caller.peak == concurrency
    assert all(scores == {"judge": 0.8} for _, scores in scored)


async def test_the_judge_bounds_its_own_calls_across_callers() -> None:
    caller = FakeCaller()
    judge = JudgeComparator(caller, JUDGE_VERSION, concurrency=2)
    many = [make_pair(i, "a", "b") for i in range(8)]
    first, second = await asyncio.gather(judge.compare_many(many[:4]), judge.compare_many(many[4:]))
    assert first + second == [0.8] * 8
    assert caller.peak == 2
    with pytest.raises(InvalidInput):
        JudgeComparator(caller, JUDGE_VERSION, concurrency=0)


async def test_an_injected_grader_replaces_the_prompt() -> None:
    seen: list[str] = []

    async def grader(pair: ShadowPair) -> float | None:
        seen.append(pair.request_id)
        return 1.5  # out of range: clipped

    caller = FakeCaller()
    judge = JudgeComparator(caller, JUDGE_VERSION, grader=grader)
    assert await judge.compare(PAIRS[0]) == 1.0
    assert seen == ["r0"]
    assert caller.calls == []


@pytest.mark.parametrize(
    ("score_a", "score_b", "agreement"),
    [
        (0.9, 0.9, 1.0),
        (0.5, 1.0, 1.0),  # a better candidate agrees fully
        (1.0, 0.25, 0.25),
        (0.9, None, None),
    ],
)
def test_agreement_of_a_pair_grade(
    score_a: float | None, score_b: float | None, agreement: float | None
) -> None:
    assert agreement_of(PairGrade(score_a, score_b, "", None)) == pytest.approx(agreement)
