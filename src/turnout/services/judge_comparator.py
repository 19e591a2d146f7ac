"""The ``judge`` comparator: a judge model grades whether the candidate's answer holds up.

Text similarity cannot tell a rephrased correct answer from a fluent wrong one;
a judge model can, at the price of a model call per pair. The judge is itself a
pinned version served through turnout (called with a
:class:`~turnout.ports.ModelCaller`), so its own upgrades are as explicit and
auditable as any other model's.

Grading is a *grader* — ``(pair) -> score in [0, 1] or None`` — by default
:func:`pair_grader`, which asks the shared :meth:`Judge.grade_pair
<turnout.services.judge.Judge.grade_pair>` (the same prompt and reply parsing as
the eval suites' judge scorer) and turns its two grades into agreement. The
comparator adds what a shadow report needs around it: no call for a pair with a
failed side (nothing to grade), and a bound on judge calls in flight however
many pairs are compared at once, so a report over 5,000 pairs does not open
5,000 connections to the judge's provider.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from turnout.domain.comparators import JUDGE, ComparatorKind
from turnout.domain.shadow import ShadowPair
from turnout.domain.shadow_report import prompt_text
from turnout.errors import InvalidInput
from turnout.ports import ModelCaller
from turnout.services.judge import Judge, PairGrade

__all__ = ["Grader", "JudgeComparator", "agreement_of", "pair_grader"]

Grader = Callable[[ShadowPair], Awaitable[float | None]]
"""Grades one pair: a score in [0, 1] (1: the candidate is as good), or None."""


def agreement_of(grade: PairGrade) -> float | None:
    """1 - how far the candidate (B) grades below the primary (A), in [0, 1].

    A shadow agreement asks "does the candidate hold up against what we serve?",
    so a candidate graded as good as the primary *or better* scores 1, and one
    graded 0.3 below it scores 0.7. None when the judge gave no pair of grades.
    """
    if grade.score_a is None or grade.score_b is None:
        return None
    return min(1.0, max(0.0, 1.0 - (grade.score_a - grade.score_b)))


def pair_grader(judge: Judge, judge_version: str, *, both_orders: bool = False) -> Grader:
    """A grader asking ``judge_version`` to grade primary (A) and candidate (B) side by side.

    By default one call per pair, primary first: judges favour the first answer
    they read, which here errs towards flagging the candidate — the safe side for
    a check that gates a promotion. ``both_orders`` asks twice with the answers
    swapped and averages, cancelling that bias at twice the judge's cost.
    """
    ask = judge.grade_pair_both_orders if both_orders else judge.grade_pair

    async def grade(pair: ShadowPair) -> float | None:
        graded = await ask(
            judge_version, prompt_text(pair.messages), pair.primary.text, pair.candidate.text
        )
        return agreement_of(graded)

    return grade


class JudgeComparator:
    """The ``judge`` agreement comparator, async and bounded.

    ``concurrency`` bounds judge calls in flight across *all* uses of this
    instance (one semaphore), so ``compare`` called from many tasks and
    :meth:`compare_many` both respect it. ``grader`` replaces the default
    :func:`pair_grader` (tests, or a custom rubric); ``both_orders`` makes the
    default grader ask each pair in both orders.
    """

    name = JUDGE
    kind = ComparatorKind.AGREEMENT
    unit = ""

    def __init__(
        self,
        caller: ModelCaller,
        judge_version: str,
        *,
        grader: Grader | None = None,
        concurrency: int = 4,
        timeout_s: float = 60.0,
        both_orders: bool = False,
    ) -> None:
        if concurrency < 1:
            raise InvalidInput(f"judge concurrency must be >= 1, got {concurrency}")
        self.judge_version = judge_version
        self.concurrency = concurrency
        self.both_orders = both_orders
        self._grader = grader or pair_grader(
            Judge(caller, timeout_s=timeout_s), judge_version, both_orders=both_orders
        )
        self._slots = asyncio.Semaphore(concurrency)

    async def compare(self, pair: ShadowPair) -> float | None:
        """The judge's grade of the pair; None if a side failed or the judge gave none."""
        if not pair.primary.ok or not pair.candidate.ok:
            return None
        async with self._slots:
            score = await self._grader(pair)
        return None if score is None else min(1.0, max(0.0, score))

    async def compare_many(self, pairs: Sequence[ShadowPair]) -> list[float | None]:
        """Grades in the pairs' order, at most ``concurrency`` judge calls at a time."""
        return list(await asyncio.gather(*(self.compare(pair) for pair in pairs)))
