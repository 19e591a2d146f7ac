"""Run eval suites against a version, store the runs, and compare two of them.

A run calls the version once per case through the :class:`~turnout.ports.ModelCaller`
port, at most ``concurrency`` calls in flight (providers rate-limit, and a
suite of 2,000 cases must not open 2,000 connections). Every case yields a
result, failures included: a case whose call failed scores 0 and keeps its
error, so an upstream outage shows up as a low score, never as a smaller
denominator. The run is written in one transaction once every case is in.

Judge scorers are graded by a judge model (:mod:`turnout.services.judge`) and
count against the same concurrency bound as the cases' own calls.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Callable
from dataclasses import dataclass, replace

from turnout.domain.completions import Completion
from turnout.domain.eval_runs import (
    CaseResult,
    EvalAggregate,
    EvalComparison,
    EvalRun,
    ScoreItem,
    compare_runs,
    weighted_score,
)
from turnout.domain.eval_scorers import JUDGE, score
from turnout.domain.eval_suite import EvalCase, EvalSuite, ScorerSpec
from turnout.domain.ids import VersionId
from turnout.errors import InvalidInput, NotFound
from turnout.ports import ModelCaller
from turnout.services.context import ServiceContext
from turnout.services.judge import Judge

__all__ = ["EvalService", "Progress", "RunOptions"]

Progress = Callable[[int, int], None]
"""Called after each case with (cases done, cases in the suite)."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run: the pass ``threshold`` per case, the default judge, the call timeout."""

    threshold: float = 0.5
    judge: str | None = None
    timeout_s: float = 60.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise InvalidInput(f"threshold must be between 0 and 1, not {self.threshold:g}")
        if not self.timeout_s > 0:
            raise InvalidInput("the call timeout must be positive")


class EvalService:
    """Eval runs over one registry: run, list, get, compare."""

    def __init__(self, ctx: ServiceContext, caller: ModelCaller | None = None) -> None:
        """``caller`` calls the models; without one the service only reads stored runs."""
        self._ctx = ctx
        self._caller = caller

    def resolve_alias(self, alias: str) -> str:
        """The version ``alias`` points at now (its stable version during a rollout)."""
        with self._ctx.store.unit_of_work() as uow:
            found = uow.aliases.get(alias)
        if found is None:
            raise NotFound(f"alias '{alias}' does not exist")
        return str(found.target.version)

    def _require_versions(self, versions: builtins.list[str]) -> None:
        with self._ctx.store.unit_of_work() as uow:
            for version in versions:
                if uow.versions.get(VersionId.parse(version)) is None:
                    raise NotFound(f"version {version} is not registered")

    async def run(
        self,
        suite: EvalSuite,
        version: str | None = None,
        *,
        alias: str | None = None,
        concurrency: int = 8,
        options: RunOptions | None = None,
        progress: Progress | None = None,
    ) -> EvalRun:
        """Run every case of ``suite`` on ``version`` (or ``alias``'s version) and store it.

        Everything that can be refused is refused before the first call: an
        unknown version or judge, a judge scorer with no judge, a bad concurrency.
        """
        if self._caller is None:
            raise RuntimeError("this EvalService was built without a ModelCaller")
        caller = self._caller
        options = options or RunOptions()
        if concurrency < 1:
            raise InvalidInput(f"concurrency must be at least 1, not {concurrency}")
        if (version is None) == (alias is None):
            raise InvalidInput("give exactly one of a version or an alias")
        if alias is not None:
            version = self.resolve_alias(alias)
        assert version is not None
        version = str(VersionId.parse(version))
        judges = suite.judge_versions(options.judge)
        self._require_versions([version, *judges])
        started_at = self._ctx.now()
        gate = asyncio.Semaphore(concurrency)
        done = 0

        async def one(case: EvalCase) -> CaseResult:
            nonlocal done
            result = await self._run_case(caller, suite, case, version, options, gate)
            done += 1
            if progress is not None:
                progress(done, len(suite.cases))
            return result

        results = await asyncio.gather(*(one(case) for case in suite.cases))
        run = EvalRun(
            id=None,
            suite=suite.name,
            suite_hash=suite.suite_hash,
            version=version,
            alias=alias,
            started_at=started_at,
            finished_at=self._ctx.now(),
            aggregate=EvalAggregate.of(results, options.threshold),
            results=tuple(results),
            judge=",".join(judges)[:240] or None,
        )
        with self._ctx.store.unit_of_work(write=True) as uow:
            run_id = uow.evals.add(run)
        return replace(run, id=run_id)

    async def _run_case(
        self,
        caller: ModelCaller,
        suite: EvalSuite,
        case: EvalCase,
        version: str,
        options: RunOptions,
        gate: asyncio.Semaphore,
    ) -> CaseResult:
        async with gate:
            completion = await caller.call(
                version, case.messages, dict(case.params), timeout_s=options.timeout_s
            )
        specs = suite.scorers_for(case)
        if completion.error is not None:
            failed = tuple(ScoreItem(s.name, s.weight, 0.0, "call failed") for s in specs)
            return _result(case, completion, failed, 0.0)
        items: builtins.list[ScoreItem] = []
        for spec in specs:
            if spec.name == JUDGE:
                judge = Judge(caller)
                items.append(
                    await self._judge_item(judge, case, spec, completion.text, options, gate)
                )
            else:
                value = score(spec.name, completion.text, case, spec.options)
                items.append(ScoreItem(spec.name, spec.weight, value))
        return _result(case, completion, tuple(items), weighted_score(items))

    async def _judge_item(
        self,
        judge: Judge,
        case: EvalCase,
        spec: ScorerSpec,
        answer: str,
        options: RunOptions,
        gate: asyncio.Semaphore,
    ) -> ScoreItem:
        judge_version = spec.options.get("version") or options.judge
        rubric = spec.options.get("rubric")
        assert isinstance(judge_version, str)  # checked by judge_versions() before the run
        async with gate:
            grade = await judge.grade_answer(
                judge_version,
                case.prompt,
                answer,
                reference=case.expected,
                rubric=rubric if isinstance(rubric, str) else None,
            )
        if grade.score is None:
            return ScoreItem(spec.name, spec.weight, 0.0, grade.error)
        return ScoreItem(spec.name, spec.weight, grade.score)

    def get(self, run_id: int) -> EvalRun:
        """A stored run with every per-case result."""
        with self._ctx.store.unit_of_work() as uow:
            run = uow.evals.get(run_id)
        if run is None:
            raise NotFound(f"eval run {run_id} does not exist")
        return run

    def compare(self, run_a: int, run_b: int) -> EvalComparison:
        """Run B against run A: paired differences on shared cases, with a 95% interval."""
        return compare_runs(self.get(run_a), self.get(run_b))

    def list(
        self, suite: str | None = None, version: str | None = None, limit: int = 50
    ) -> builtins.list[EvalRun]:
        """Stored runs, newest first, without per-case results."""
        if version is not None:
            version = str(VersionId.parse(version))
        with self._ctx.store.unit_of_work() as uow:
            return uow.evals.recent(suite, version, limit)


def _result(
    case: EvalCase, completion: Completion, items: tuple[ScoreItem, ...], value: float
) -> CaseResult:
    return CaseResult(
        case_id=case.id,
        answer=completion.text,
        scores=items,
        score=value,
        latency_ms=completion.latency_ms,
        ttft_ms=completion.ttft_ms,
        tokens_in=completion.tokens_in,
        tokens_out=completion.tokens_out,
        cost_usd=completion.cost_usd,
        error=completion.error,
    )
