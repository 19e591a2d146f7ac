"""Eval runs in SQL: one ``eval_runs`` row with the summary, one ``eval_results`` row per case.

A run is written in the caller's transaction (``uow.evals.add``), so it lands
whole or not at all: a listing never shows a run with half its cases. Listings
read the summary columns only; a thousand-case run's answers are loaded by
``get`` alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select

from turnout.domain.eval_runs import CaseResult, EvalAggregate, EvalRun, ScoreItem
from turnout.store.schema import eval_results, eval_runs

__all__ = ["SqlEvals"]

_INSERT_BATCH = 500


def _run_row(run: EvalRun) -> dict[str, Any]:
    aggregate = run.aggregate
    return {
        "suite": run.suite,
        "suite_hash": run.suite_hash,
        "version": run.version,
        "alias": run.alias,
        "judge": run.judge,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "cases": aggregate.cases,
        "mean_score": aggregate.mean_score,
        "passed": aggregate.passed,
        "pass_rate": aggregate.pass_rate,
        "errors": aggregate.errors,
        "total_cost_usd": aggregate.total_cost_usd,
        "threshold": aggregate.threshold,
    }


def _result_row(run_id: int, position: int, result: CaseResult) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "position": position,
        "case_id": result.case_id,
        "answer": result.answer,
        "scores": [item.to_dict() for item in result.scores],
        "score": result.score,
        "latency_ms": result.latency_ms,
        "ttft_ms": result.ttft_ms,
        "tokens_in": result.tokens_in,
        "tokens_out": result.tokens_out,
        "cost_usd": result.cost_usd,
        "error": result.error,
    }


def _run_from_row(row: RowMapping, results: Sequence[CaseResult] = ()) -> EvalRun:
    return EvalRun(
        id=row["id"],
        suite=row["suite"],
        suite_hash=row["suite_hash"],
        version=row["version"],
        alias=row["alias"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        aggregate=EvalAggregate(
            cases=row["cases"],
            mean_score=row["mean_score"],
            passed=row["passed"],
            pass_rate=row["pass_rate"],
            errors=row["errors"],
            total_cost_usd=row["total_cost_usd"],
            threshold=row["threshold"],
        ),
        results=tuple(results),
        judge=row["judge"],
    )


def _result_from_row(row: RowMapping) -> CaseResult:
    scores: list[Mapping[str, object]] = row["scores"] or []
    return CaseResult(
        case_id=row["case_id"],
        answer=row["answer"],
        scores=tuple(ScoreItem.from_dict(item) for item in scores),
        score=row["score"],
        latency_ms=row["latency_ms"],
        ttft_ms=row["ttft_ms"],
        tokens_in=row["tokens_in"],
        tokens_out=row["tokens_out"],
        cost_usd=row["cost_usd"],
        error=row["error"],
    )


class SqlEvals:
    """Implements :class:`turnout.ports.EvalRepository` inside one transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, run: EvalRun) -> int:
        """Insert the run and its results; the caller's transaction makes it atomic."""
        result = self._conn.execute(insert(eval_runs).values(_run_row(run)))
        key = result.inserted_primary_key
        assert key is not None
        run_id = int(key[0])
        rows = [_result_row(run_id, i, r) for i, r in enumerate(run.results)]
        for start in range(0, len(rows), _INSERT_BATCH):
            self._conn.execute(insert(eval_results), rows[start : start + _INSERT_BATCH])
        return run_id

    def get(self, run_id: int) -> EvalRun | None:
        row = self._conn.execute(select(eval_runs).where(eval_runs.c.id == run_id)).first()
        if row is None:
            return None
        results = self._conn.execute(
            select(eval_results)
            .where(eval_results.c.run_id == run_id)
            .order_by(eval_results.c.position)
        )
        return _run_from_row(row._mapping, [_result_from_row(r._mapping) for r in results])

    def recent(
        self, suite: str | None = None, version: str | None = None, limit: int = 50
    ) -> list[EvalRun]:
        query = select(eval_runs).order_by(eval_runs.c.id.desc()).limit(limit)
        if suite is not None:
            query = query.where(eval_runs.c.suite == suite)
        if version is not None:
            query = query.where(eval_runs.c.version == version)
        return [_run_from_row(row._mapping) for row in self._conn.execute(query)]
