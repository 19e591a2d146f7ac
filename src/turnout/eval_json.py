"""JSON shapes of eval runs and comparisons: one encoding for ``--json`` (and an API).

Kept beside :mod:`turnout.serialize` rather than in it so the eval feature
stays in its own files; the shapes follow the same conventions (ISO
timestamps, ids as strings where the domain has them as strings).
"""

from __future__ import annotations

from typing import Any

from turnout.domain.eval_runs import CaseResult, EvalComparison, EvalRun
from turnout.domain.eval_stats import PairedInterval

__all__ = ["case_result_json", "eval_comparison_json", "eval_run_json"]

Json = dict[str, Any]


def case_result_json(result: CaseResult) -> Json:
    return {
        "case_id": result.case_id,
        "score": result.score,
        "scores": [item.to_dict() for item in result.scores],
        "answer": result.answer,
        "error": result.error,
        "latency_ms": result.latency_ms,
        "ttft_ms": result.ttft_ms,
        "tokens_in": result.tokens_in,
        "tokens_out": result.tokens_out,
        "cost_usd": result.cost_usd,
    }


def eval_run_json(run: EvalRun, with_results: bool = True) -> Json:
    aggregate = run.aggregate
    data: Json = {
        "id": run.id,
        "suite": run.suite,
        "suite_hash": run.suite_hash,
        "version": run.version,
        "alias": run.alias,
        "judge": run.judge,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat(),
        "aggregate": {
            "cases": aggregate.cases,
            "mean_score": aggregate.mean_score,
            "passed": aggregate.passed,
            "pass_rate": aggregate.pass_rate,
            "errors": aggregate.errors,
            "total_cost_usd": aggregate.total_cost_usd,
            "threshold": aggregate.threshold,
        },
    }
    if with_results:
        data["results"] = [case_result_json(result) for result in run.results]
    return data


def _interval_json(interval: PairedInterval | None) -> Json | None:
    if interval is None:
        return None
    return {
        "n": interval.n,
        "mean_difference": interval.mean,
        "std_dev": interval.std_dev,
        "std_error": interval.std_error,
        "low": interval.low,
        "high": interval.high,
        "confidence": interval.confidence,
    }


def eval_comparison_json(comparison: EvalComparison) -> Json:
    return {
        "run_a": eval_run_json(comparison.run_a, with_results=False),
        "run_b": eval_run_json(comparison.run_b, with_results=False),
        "paired_cases": len(comparison.pairs),
        "interval": _interval_json(comparison.interval),
        "wins": comparison.wins,
        "losses": comparison.losses,
        "ties": comparison.ties,
        "only_a": list(comparison.only_a),
        "only_b": list(comparison.only_b),
        "notes": list(comparison.notes),
        "pairs": [
            {
                "case_id": pair.case_id,
                "score_a": pair.score_a,
                "score_b": pair.score_b,
                "difference": pair.difference,
            }
            for pair in comparison.pairs
        ],
    }
