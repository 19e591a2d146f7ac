"""Stored eval runs for tests that need evidence without running a suite."""

from __future__ import annotations

from datetime import timedelta

from turnout.domain.eval_runs import CaseResult, EvalAggregate, EvalRun
from turnout.services.registry import Registry

__all__ = ["store_eval_run"]


def store_eval_run(
    registry: Registry, version: str, score: float, suite_hash: str = "h", suite: str = "qa"
) -> int:
    """A one-case run of ``suite`` on ``version`` scoring ``score``, finished now."""
    now = registry.ctx.now()
    passed = int(score >= 0.5)
    run = EvalRun(
        None,
        suite,
        suite_hash,
        version,
        None,
        now - timedelta(minutes=5),
        now,
        EvalAggregate(1, score, passed, float(passed), 0, None, 0.5),
        (CaseResult("c1", "42", (), score, 10.0),),
    )
    with registry.ctx.store.unit_of_work(write=True) as uow:
        return uow.evals.add(run)
