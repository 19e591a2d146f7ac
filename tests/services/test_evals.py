"""Eval runs end to end: real suites against sim versions, stored on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence

import pytest

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.completions import Completion, Message
from turnout.domain.eval_suite import EvalCase, EvalSuite, ScorerSpec
from turnout.errors import InvalidInput, NotFound
from turnout.services.evals import EvalService, RunOptions
from turnout.services.registry import Registry
from turnout.wiring import build_eval_service, build_model_caller


def _arithmetic(cases: int) -> EvalSuite:
    return EvalSuite(
        "arith",
        tuple(
            EvalCase(
                f"add-{i}",
                ({"role": "user", "content": f"What is {i + 3} + {2 * i + 7}?"},),
                expected=str(3 * i + 10),
            )
            for i in range(cases)
        ),
        scorers=(ScorerSpec("numeric"),),
    )


def _run(registry: Registry, suite: EvalSuite, version: str | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        caller = build_model_caller(registry)
        try:
            return await build_eval_service(registry, caller).run(suite, version, **kwargs)  # type: ignore[arg-type]
        finally:
            await caller.aclose()

    return asyncio.run(go())


def test_scores_follow_the_sim_quality(registry: Registry) -> None:
    registry.versions.add(LOCAL_ADMIN, "sim/chat-001", {"quality": 0.7})
    registry.versions.add(LOCAL_ADMIN, "sim/chat-002", {"quality": 1.0})
    suite = _arithmetic(200)
    seen: list[tuple[int, int]] = []
    run = _run(registry, suite, "sim/chat-001", progress=lambda d, n: seen.append((d, n)))
    # the mean of 200 Bernoulli(0.7) draws: within 4 standard errors of 0.7
    half_width = 4 * math.sqrt(0.7 * 0.3 / 200)
    assert abs(run.aggregate.mean_score - 0.7) < half_width
    assert run.aggregate.pass_rate == run.aggregate.mean_score  # numeric scores are 0 or 1
    assert (run.aggregate.cases, run.aggregate.errors) == (200, 0)
    assert seen[-1] == (200, 200)
    assert len(seen) == 200
    perfect = _run(registry, suite, "sim/chat-002")
    assert perfect.aggregate.mean_score == 1.0
    assert perfect.id is not None
    assert run.id is not None
    assert perfect.id > run.id
    service = EvalService(registry.ctx)
    stored = service.get(run.id)
    assert stored.results == run.results
    assert stored.suite_hash == suite.suite_hash
    assert stored.started_at == registry.ctx.now()  # the fake clock
    comparison = service.compare(run.id, perfect.id)
    assert comparison.interval is not None
    assert comparison.interval.mean == pytest.approx(1.0 - run.aggregate.mean_score)
    assert comparison.interval.low is not None
    assert comparison.interval.low > 0  # a real improvement, paired on 200 cases
    assert comparison.losses == 0
    assert comparison.notes == ()
    assert [r.id for r in service.list()] == [perfect.id, run.id]
    assert [r.id for r in service.list(version="sim/chat-001")] == [run.id]
    assert service.list(suite="other") == []


def test_upstream_failures_are_recorded_and_score_zero(registry: Registry) -> None:
    registry.versions.add(LOCAL_ADMIN, "sim/flaky-001", {"error_rate": 0.3})
    run = _run(registry, _arithmetic(60), "sim/flaky-001")
    failed = [r for r in run.results if r.error is not None]
    assert len(run.results) == 60  # nothing lost
    assert 0 < len(failed) < 60
    assert run.aggregate.errors == len(failed)
    assert all(r.score == 0.0 and r.answer == "" for r in failed)
    assert all("simulated upstream error" in (r.error or "") for r in failed)
    assert all(item.note == "call failed" for r in failed for item in r.scores)
    ok = [r for r in run.results if r.error is None]
    assert all(r.score == 1.0 for r in ok)
    assert run.aggregate.mean_score == pytest.approx(len(ok) / 60)
    assert run.id is not None
    assert EvalService(registry.ctx).get(run.id).aggregate.errors == len(failed)


def test_an_alias_runs_its_current_version(registry: Registry) -> None:
    registry.versions.add(LOCAL_ADMIN, "sim/chat-001")
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", "sim/chat-001")
    run = _run(registry, _arithmetic(3), alias="prod-chat")
    assert (run.version, run.alias) == ("sim/chat-001", "prod-chat")


def test_refusals_happen_before_any_call(registry: Registry) -> None:
    registry.versions.add(LOCAL_ADMIN, "sim/chat-001")
    suite = _arithmetic(2)
    judged = EvalSuite(
        "j", (EvalCase("a", suite.cases[0].messages, "1", None, (ScorerSpec("judge"),)),)
    )
    cases: list[tuple[EvalSuite, dict[str, object], type[Exception], str]] = [
        (suite, {"version": "sim/nope-001"}, NotFound, "not registered"),
        (suite, {"alias": "nope"}, NotFound, "does not exist"),
        (suite, {}, InvalidInput, "exactly one"),
        (suite, {"version": "sim/chat-001", "alias": "x"}, InvalidInput, "exactly one"),
        (suite, {"version": "sim/chat-001", "concurrency": 0}, InvalidInput, "concurrency"),
        (judged, {"version": "sim/chat-001"}, InvalidInput, "--judge"),
        (
            judged,
            {"version": "sim/chat-001", "options": RunOptions(judge="sim/judge-404")},
            NotFound,
            "sim/judge-404",
        ),
    ]
    for chosen, kwargs, error, message in cases:
        version = kwargs.pop("version", None)
        with pytest.raises(error, match=message):
            _run(registry, chosen, version, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="threshold"):
        RunOptions(threshold=1.5)
    assert EvalService(registry.ctx).list() == []


class FakeCaller:
    """A ModelCaller that answers every call after yielding to the loop, counting
    calls in flight; judge versions answer with a fixed grade."""

    def __init__(self, answer: str = "The answer is 42.", grade: str = "SCORE: 0.8") -> None:
        self.answer = answer
        self.grade = grade
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls: list[tuple[str, list[Message]]] = []

    async def call(
        self,
        version: str,
        messages: Sequence[Message],
        params: Mapping[str, object] | None = None,
        *,
        timeout_s: float = 60.0,
    ) -> Completion:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.calls.append((version, list(messages)))
        for _ in range(5):
            await asyncio.sleep(0)
        self.in_flight -= 1
        text = self.grade if "judge" in version else self.answer
        return Completion(version, text, latency_ms=1.0, tokens_in=5, tokens_out=3, cost_usd=0.01)

    async def aclose(self) -> None:
        pass


def test_concurrency_is_bounded(registry: Registry) -> None:
    registry.versions.add(LOCAL_ADMIN, "sim/chat-001")
    caller = FakeCaller()
    service = EvalService(registry.ctx, caller)
    run = asyncio.run(service.run(_arithmetic(25), "sim/chat-001", concurrency=3))
    assert caller.max_in_flight == 3
    assert len(caller.calls) == 25
    assert run.aggregate.total_cost_usd == pytest.approx(0.25)
    serial = FakeCaller()
    asyncio.run(
        EvalService(registry.ctx, serial).run(_arithmetic(5), "sim/chat-001", concurrency=1)
    )
    assert serial.max_in_flight == 1


def test_judge_scores_are_weighted_with_the_others(registry: Registry) -> None:
    registry.versions.add(LOCAL_ADMIN, "sim/chat-001")
    registry.versions.add(LOCAL_ADMIN, "sim/judge-001")
    case = EvalCase(
        "a",
        ({"role": "user", "content": "What is 17 + 25?"},),
        expected="42",
        scorers=(
            ScorerSpec("numeric", weight=1.0),
            ScorerSpec("judge", weight=3.0, options={"rubric": "be strict"}),
        ),
    )
    caller = FakeCaller(grade='{"score": 0.6}')
    service = EvalService(registry.ctx, caller)
    run = asyncio.run(
        service.run(
            EvalSuite("j", (case,)), "sim/chat-001", options=RunOptions(judge="sim/judge-001")
        )
    )
    (result,) = run.results
    assert [(i.name, i.score) for i in result.scores] == [("numeric", 1.0), ("judge", 0.6)]
    assert result.score == pytest.approx((1.0 + 3 * 0.6) / 4)
    assert run.judge == "sim/judge-001"
    judge_version, judge_messages = caller.calls[1]
    assert judge_version == "sim/judge-001"
    assert "be strict" in str(judge_messages[-1]["content"])
    assert "Reference answer:\n42" in str(judge_messages[-1]["content"])


def test_a_sim_judge_grades_end_to_end(registry: Registry) -> None:
    """The sim as judge: it answers the question's arithmetic, which is a grade when
    the result is 0 or 1, and no grade otherwise (recorded, scored 0)."""
    registry.versions.add(LOCAL_ADMIN, "sim/chat-001")
    registry.versions.add(LOCAL_ADMIN, "sim/judge-001")
    judge = (ScorerSpec("judge", options={"version": "sim/judge-001"}),)
    suite = EvalSuite(
        "judged",
        (
            EvalCase("one", ({"role": "user", "content": "What is 0 + 1?"},), "1", None, judge),
            EvalCase("big", ({"role": "user", "content": "What is 17 + 25?"},), "42", None, judge),
        ),
    )
    run = _run(registry, suite, "sim/chat-001")
    one, big = run.results
    assert (one.score, one.scores[0].note) == (1.0, None)
    assert big.score == 0.0
    assert big.error is None
    assert "holds no grade" in (big.scores[0].note or "")
