"""Eval runs: what one version answered to every case of a suite, and how it scored.

A run is evidence (promotion policy will ask for one), so it records enough to
be re-read without the suite file: the suite's name *and hash*, the version,
every case's answer with each scorer's score, and the aggregate. A case whose
call failed is a result too — score 0 with its error — so a flaky upstream
lowers the score visibly instead of shrinking the denominator.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from turnout.domain.eval_stats import PairedInterval, paired_interval

__all__ = [
    "CaseResult",
    "EvalAggregate",
    "EvalComparison",
    "EvalRun",
    "PairedCase",
    "ScoreItem",
    "compare_runs",
    "weighted_score",
]


@dataclass(frozen=True, slots=True)
class ScoreItem:
    """One scorer's verdict on one answer; ``note`` says why a score is missing or 0."""

    name: str
    weight: float
    score: float
    note: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "weight": self.weight, "score": self.score, "note": self.note}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ScoreItem:
        note = data.get("note")
        return cls(
            str(data["name"]),
            float(data["weight"]),  # type: ignore[arg-type]
            float(data["score"]),  # type: ignore[arg-type]
            str(note) if note is not None else None,
        )


def weighted_score(items: Sequence[ScoreItem]) -> float:
    """The weighted mean of the scores (0 when there is nothing to weigh)."""
    total = math.fsum(item.weight for item in items)
    if total <= 0:
        return 0.0
    return math.fsum(item.weight * item.score for item in items) / total


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case of a run: the answer, its scores, and what the call cost."""

    case_id: str
    answer: str
    scores: tuple[ScoreItem, ...]
    score: float
    latency_ms: float
    ttft_ms: float | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_usd: float | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class EvalAggregate:
    """A run's summary: mean score, pass rate at ``threshold``, errors and cost."""

    cases: int
    mean_score: float
    passed: int
    pass_rate: float
    errors: int
    total_cost_usd: float | None
    threshold: float

    @classmethod
    def of(cls, results: Sequence[CaseResult], threshold: float) -> EvalAggregate:
        n = len(results)
        passed = sum(1 for r in results if r.error is None and r.score >= threshold)
        costs = [r.cost_usd for r in results if r.cost_usd is not None]
        return cls(
            cases=n,
            mean_score=math.fsum(r.score for r in results) / n if n else 0.0,
            passed=passed,
            pass_rate=passed / n if n else 0.0,
            errors=sum(1 for r in results if r.error is not None),
            total_cost_usd=math.fsum(costs) if costs else None,
            threshold=threshold,
        )


@dataclass(frozen=True, slots=True)
class EvalRun:
    """One run of a suite against one version. ``results`` is empty in listings."""

    id: int | None
    suite: str
    suite_hash: str
    version: str
    alias: str | None
    started_at: datetime
    finished_at: datetime
    aggregate: EvalAggregate
    results: tuple[CaseResult, ...] = ()
    judge: str | None = None


@dataclass(frozen=True, slots=True)
class PairedCase:
    """One case both runs graded: its two scores and B - A."""

    case_id: str
    score_a: float
    score_b: float

    @property
    def difference(self) -> float:
        return self.score_b - self.score_a


@dataclass(frozen=True, slots=True)
class EvalComparison:
    """Run B against run A on the cases they share (matched by case id)."""

    run_a: EvalRun
    run_b: EvalRun
    pairs: tuple[PairedCase, ...]
    interval: PairedInterval | None
    wins: int
    losses: int
    ties: int
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    notes: tuple[str, ...]


def compare_runs(
    run_a: EvalRun, run_b: EvalRun, confidence: float = 0.95, tie: float = 1e-9
) -> EvalComparison:
    """Paired differences B - A per shared case, a t interval on their mean, and
    wins (B better), losses and ties; notes flag differing suites."""
    by_id = {result.case_id: result for result in run_a.results}
    b_ids = {result.case_id for result in run_b.results}
    pairs = tuple(
        PairedCase(result.case_id, by_id[result.case_id].score, result.score)
        for result in run_b.results
        if result.case_id in by_id
    )
    notes = []
    if run_a.suite_hash != run_b.suite_hash:
        notes.append(
            f"suite hashes differ ({run_a.suite_hash[:12]} vs {run_b.suite_hash[:12]}): "
            "the cases or their scorers changed between the runs"
        )
    if not pairs:
        notes.append("the runs share no case ids: nothing to compare")
    differences = [pair.difference for pair in pairs]
    return EvalComparison(
        run_a=run_a,
        run_b=run_b,
        pairs=pairs,
        interval=paired_interval(differences, confidence) if pairs else None,
        wins=sum(1 for d in differences if d > tie),
        losses=sum(1 for d in differences if d < -tie),
        ties=sum(1 for d in differences if abs(d) <= tie),
        only_a=tuple(r.case_id for r in run_a.results if r.case_id not in b_ids),
        only_b=tuple(r.case_id for r in run_b.results if r.case_id not in by_id),
        notes=tuple(notes),
    )
