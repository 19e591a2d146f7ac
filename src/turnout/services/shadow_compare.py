"""Score shadow pairs with named comparators: what ``shadow report`` and ``shadow replay`` share.

The pure comparators run in a worker thread (one hand-off for the whole batch),
so a report computed inside a serving process never stalls its event loop on
rapidfuzz or an embedding model; the judge, which calls a model, runs on the
loop with its own bound on calls in flight. Names are checked before anything
runs: a typo fails at once with the list of known comparators, instead of after
a thousand judge calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from turnout.domain.comparators import JUDGE, Comparator, ComparatorKind, ComparatorRegistry
from turnout.domain.comparators import builtin_registry as _builtin_registry
from turnout.domain.shadow import ShadowPair
from turnout.errors import InvalidInput
from turnout.services.judge_comparator import JudgeComparator

__all__ = ["DEFAULT_COMPARATORS", "ScoredPairs", "comparator_kinds", "compare_pairs"]

ScoredPairs = list[tuple[ShadowPair, dict[str, float | None]]]
"""Each pair with its scores by comparator name, in the pairs' order."""

DEFAULT_COMPARATORS: tuple[str, ...] = (
    "exact",
    "normalised",
    "json_valid",
    "json_equal",
    "token_set",
    "fuzzy",
    "refusal",
    "length_ratio",
    "latency_ms",
    "ttft_ms",
    "tokens_out",
    "cost_usd",
    "error",
)
"""What a report runs when the user names no comparators: every built-in, no judge."""


def _score_all(
    pairs: Sequence[ShadowPair], comparators: Sequence[Comparator]
) -> list[dict[str, float | None]]:
    return [{c.name: c.compare(pair) for c in comparators} for pair in pairs]


def _check_judge(names: Sequence[str], judge: JudgeComparator | None) -> None:
    if JUDGE in names and judge is None:
        raise InvalidInput(
            f"comparator '{JUDGE}' needs a judge model: name the judge version to grade with"
        )


async def compare_pairs(
    pairs: Sequence[ShadowPair],
    comparators: Sequence[str],
    judge: JudgeComparator | None = None,
    concurrency: int = 4,
    *,
    registry: ComparatorRegistry | None = None,
) -> ScoredPairs:
    """Every pair's scores under ``comparators`` (and the judge's, if one is given).

    ``registry`` defaults to the built-ins; a composition root with the semantic
    extra passes one with ``embedding`` registered. ``concurrency`` caps judge
    calls in flight for this batch (the judge's own bound applies too). Listing
    ``judge`` in ``comparators`` is optional when a judge is given, and an error
    when none is. Unknown names raise :class:`~turnout.errors.InvalidInput`
    listing the known ones.
    """
    if concurrency < 1:
        raise InvalidInput(f"concurrency must be >= 1, got {concurrency}")
    _check_judge(comparators, judge)
    resolved = (_builtin_registry() if registry is None else registry).resolve(comparators)
    scores = await asyncio.to_thread(_score_all, list(pairs), resolved) if pairs else []
    if judge is not None:
        slots = asyncio.Semaphore(concurrency)

        async def grade(pair: ShadowPair) -> float | None:
            async with slots:
                return await judge.compare(pair)

        grades = await asyncio.gather(*(grade(pair) for pair in pairs))
        for row, grade_value in zip(scores, grades, strict=True):
            row[JUDGE] = grade_value
    return list(zip(pairs, scores, strict=True))


def comparator_kinds(
    comparators: Sequence[str], registry: ComparatorRegistry | None = None
) -> dict[str, tuple[ComparatorKind, str]]:
    """(kind, unit) of each named comparator, as ``shadow_report.summarise`` takes them."""
    known = (_builtin_registry() if registry is None else registry).kinds()
    return {name: known[name] for name in comparators if name in known}
