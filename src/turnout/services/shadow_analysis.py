"""Shadow reports and offline replays: turning stored pairs into evidence.

A *report* reads the pairs a candidate collected for an alias in a time window,
scores each with the named comparators (and optionally a judge model) and
summarises them with confidence intervals (:mod:`turnout.domain.shadow_report`).

A *replay* sends prompts the gateway already captured to a candidate now, with
no live traffic at all: the newest distinct requests of the alias's stored pairs
(whatever candidate they were captured for) are asked again of ``candidate``,
paired with the answer the client was actually served, and stored as pairs with
``source = "replay"``. The same report then covers them: replay and live
shadowing are compared the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from turnout.domain.comparators import JUDGE
from turnout.domain.ids import VersionId, require_pinned
from turnout.domain.shadow import ShadowPair
from turnout.domain.shadow_report import ReportWindow, ShadowReport, summarise
from turnout.errors import InvalidInput, NotFound
from turnout.ports import ModelCaller
from turnout.services.context import ServiceContext
from turnout.services.judge_comparator import JudgeComparator
from turnout.services.shadow import ShadowService
from turnout.services.shadow_compare import DEFAULT_COMPARATORS, comparator_kinds, compare_pairs

__all__ = ["ReplayOutcome", "ReportRequest", "ShadowAnalysis"]

Progress = Callable[[int, int], None]
"""Called with (done, total) as replayed requests finish."""

_CAPTURED_SCAN = 20_000
"""How many stored pairs a replay looks through for distinct captured requests."""


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What to report on: the pairs of ``alias`` x ``candidate`` in ``[since, until)``."""

    alias: str
    candidate: str | None = None  # None: the alias's only candidate with pairs
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 5000
    comparators: Sequence[str] = DEFAULT_COMPARATORS
    judge: str | None = None  # a version id that grades pairs (comparator ``judge``)
    source: str | None = None  # ``live``, ``replay`` or None for both
    worst: int = 10
    judge_both_orders: bool = False  # ask the judge twice, answers swapped (no position bias)


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """How a replay went: pairs stored, and how many of the candidate's calls failed."""

    alias: str
    candidate: str
    pairs: int
    candidate_errors: int


class ShadowAnalysis:
    """Reports and replays; ``caller`` calls models (replays, judges), reads need none."""

    def __init__(
        self, ctx: ServiceContext, shadow: ShadowService, caller: ModelCaller | None = None
    ) -> None:
        self._ctx = ctx
        self._shadow = shadow
        self._caller = caller

    def _require_caller(self, what: str) -> ModelCaller:
        if self._caller is None:
            raise RuntimeError(f"{what} needs a ModelCaller; build the service with one")
        return self._caller

    async def report(self, request: ReportRequest) -> ShadowReport:
        """Score and summarise the window's pairs (see :class:`ReportRequest`)."""
        comparators = [name for name in request.comparators if name != JUDGE]
        judge = None
        if request.judge is not None:
            require_pinned(VersionId.parse(request.judge), self._ctx.catalog)
            caller = self._require_caller("a judge")
            judge = JudgeComparator(caller, request.judge, both_orders=request.judge_both_orders)
        elif request.judge_both_orders:
            raise InvalidInput("--judge-both-orders needs a judge model: pass --judge VERSION")
        elif JUDGE in request.comparators:
            raise InvalidInput("comparator 'judge' needs a judge model: pass --judge VERSION")
        kinds = comparator_kinds(comparators)  # unknown names fail here, before any read
        candidate = request.candidate or self._only_candidate(request.alias)
        pairs = self._shadow.pairs(
            request.alias,
            candidate,
            request.since,
            request.until,
            request.limit,
            request.source,
        )
        scored = await compare_pairs(pairs, comparators, judge)
        if judge is not None:
            kinds[JUDGE] = (judge.kind, judge.unit)
        worst_by = "judge" if judge is not None else _worst_by(comparators)
        return summarise(
            request.alias,
            candidate,
            scored,
            ReportWindow(request.since, request.until),
            kinds=kinds,
            worst_by=worst_by,
            worst_limit=request.worst,
        )

    def _only_candidate(self, alias: str) -> str:
        counts = self._shadow.status(alias, window=None).counts
        if not counts:
            raise NotFound(f"alias '{alias}' has no shadow pairs yet")
        if len(counts) > 1:
            names = ", ".join(c.candidate for c in counts)
            raise InvalidInput(
                f"alias '{alias}' has pairs for several candidates: pick one of {names}"
            )
        return counts[0].candidate

    async def replay(
        self,
        alias: str,
        candidate: str,
        limit: int = 100,
        concurrency: int = 4,
        progress: Progress | None = None,
    ) -> ReplayOutcome:
        """Ask ``candidate`` the newest ``limit`` captured requests of ``alias`` again."""
        if limit < 1 or concurrency < 1:
            raise InvalidInput("replay --limit and --concurrency must be at least 1")
        vid = VersionId.parse(candidate)
        require_pinned(vid, self._ctx.catalog)
        with self._ctx.store.unit_of_work() as uow:
            if uow.versions.get(vid) is None:
                raise NotFound(
                    f"version {candidate} is not registered; add it first: turnout version add "
                    f"{candidate}"
                )
        captured = _distinct_requests(self._shadow.pairs(alias, limit=_CAPTURED_SCAN), limit)
        if not captured:
            raise NotFound(
                f"alias '{alias}' has no captured requests to replay: shadow it first "
                f"(turnout shadow start {alias} --candidate VERSION)"
            )
        caller = self._require_caller("a replay")
        slots = asyncio.Semaphore(concurrency)
        done = 0

        async def one(pair: ShadowPair) -> ShadowPair:
            nonlocal done
            async with slots:
                answer = await caller.call(candidate, pair.messages, pair.params)
            done += 1
            if progress is not None:
                progress(done, len(captured))
            return ShadowPair(
                request_id=pair.request_id,
                at=self._ctx.now(),
                alias=alias,
                messages=pair.messages,
                primary=pair.primary,
                candidate=answer,
                stream=False,
                source="replay",
                params=pair.params,
            )

        replayed = await asyncio.gather(*(one(pair) for pair in captured))
        self._ctx.store.log_shadow_pairs(replayed)
        errors = sum(1 for pair in replayed if not pair.candidate.ok)
        return ReplayOutcome(alias, candidate, len(replayed), errors)


def _distinct_requests(pairs: Sequence[ShadowPair], limit: int) -> list[ShadowPair]:
    """The newest ``limit`` distinct requests whose primary answered, newest first."""
    seen: set[str] = set()
    chosen: list[ShadowPair] = []
    for pair in reversed(pairs):  # pairs come oldest first
        if pair.request_id in seen or not pair.primary.ok or pair.source != "live":
            continue
        seen.add(pair.request_id)
        chosen.append(pair)
        if len(chosen) == limit:
            break
    return chosen


def _worst_by(comparators: Sequence[str]) -> str:
    for preferred in ("token_set", "fuzzy", "normalised", "exact"):
        if preferred in comparators:
            return preferred
    raise InvalidInput(
        "a report needs at least one text comparator (token_set, fuzzy, normalised or exact) "
        "or a judge to rank disagreements"
    )
