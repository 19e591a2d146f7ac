"""Eval runs in the store, on SQLite and PostgreSQL: round trip, filters, all-or-nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from turnout.domain.eval_runs import CaseResult, EvalAggregate, EvalRun, ScoreItem
from turnout.errors import TurnoutError
from turnout.store import SqlStore
from turnout.store.schema import eval_results, eval_runs

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _run(suite: str = "arith", version: str = "sim/chat-001", cases: int = 3) -> EvalRun:
    results = tuple(
        CaseResult(
            case_id=f"c{i}",
            answer=f"The answer is {i}.",
            scores=(ScoreItem("numeric", 1.0, float(i % 2)), ScoreItem("judge", 0.5, 0.0, "no")),
            score=float(i % 2) / 1.5,
            latency_ms=12.5 + i,
            ttft_ms=3.0 if i else None,
            tokens_in=10,
            tokens_out=4 + i,
            cost_usd=0.001 if i else None,
            error=None if i else "provider_error: boom",
        )
        for i in range(cases)
    )
    return EvalRun(
        id=None,
        suite=suite,
        suite_hash="ab" * 32,
        version=version,
        alias="prod-chat",
        started_at=AT,
        finished_at=AT + timedelta(seconds=3),
        aggregate=EvalAggregate.of(results, 0.5),
        results=results,
        judge="sim/judge-001",
    )


def test_a_run_round_trips_with_every_result(store: SqlStore) -> None:
    run = _run()
    with store.unit_of_work(write=True) as uow:
        run_id = uow.evals.add(run)
    with store.unit_of_work() as uow:
        loaded = uow.evals.get(run_id)
        assert uow.evals.get(run_id + 100) is None
    assert loaded is not None
    assert loaded.id == run_id
    assert loaded.results == run.results
    assert loaded.aggregate == run.aggregate
    assert (loaded.suite, loaded.suite_hash, loaded.version, loaded.alias, loaded.judge) == (
        run.suite,
        run.suite_hash,
        run.version,
        run.alias,
        run.judge,
    )
    assert (loaded.started_at, loaded.finished_at) == (run.started_at, run.finished_at)


def test_listing_filters_and_orders_newest_first(store: SqlStore) -> None:
    with store.unit_of_work(write=True) as uow:
        first = uow.evals.add(_run("arith", "sim/chat-001"))
        second = uow.evals.add(_run("arith", "sim/chat-002"))
        third = uow.evals.add(_run("json", "sim/chat-001"))
    with store.unit_of_work() as uow:
        assert [r.id for r in uow.evals.recent()] == [third, second, first]
        assert [r.id for r in uow.evals.recent(suite="arith")] == [second, first]
        assert [r.id for r in uow.evals.recent(version="sim/chat-001")] == [third, first]
        assert [r.id for r in uow.evals.recent("arith", "sim/chat-002")] == [second]
        assert [r.id for r in uow.evals.recent(limit=1)] == [third]
        listed = uow.evals.recent()
    assert all(run.results == () for run in listed)  # listings carry the summary only
    assert listed[0].aggregate.cases == 3


def test_a_large_run_is_stored_whole(store: SqlStore) -> None:
    with store.unit_of_work(write=True) as uow:
        run_id = uow.evals.add(_run(cases=1201))
    with store.unit_of_work() as uow:
        loaded = uow.evals.get(run_id)
    assert loaded is not None
    assert [r.case_id for r in loaded.results] == [f"c{i}" for i in range(1201)]


def _counts(store: SqlStore) -> tuple[int, int]:
    with store.engine.connect() as conn:
        runs = conn.execute(select(func.count()).select_from(eval_runs)).scalar_one()
        results = conn.execute(select(func.count()).select_from(eval_results)).scalar_one()
    return int(runs), int(results)


class Boom(Exception):
    pass


def test_writing_a_run_is_all_or_nothing(store: SqlStore) -> None:
    def add_then_fail() -> None:
        with store.unit_of_work(write=True) as uow:
            uow.evals.add(_run())
            raise Boom

    with pytest.raises(Boom):
        add_then_fail()
    assert _counts(store) == (0, 0)
    run = _run(cases=700)  # two insert batches; the last row breaks NOT NULL
    broken = CaseResult("bad", None, (), 0.0, 1.0)  # type: ignore[arg-type]
    with pytest.raises((IntegrityError, TurnoutError)), store.unit_of_work(write=True) as uow:
        uow.evals.add(replace(run, results=(*run.results, broken)))
    assert _counts(store) == (0, 0)
