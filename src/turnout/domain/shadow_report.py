"""The shadow report: what the comparators found over a window of pairs, with uncertainty.

``turnout shadow report`` answers "is the candidate as good as what we serve?"
for one (alias, candidate): per agreement comparator, the agreement rate with a
95 % confidence interval (a rate on 40 pairs is not a rate on 4,000); per delta,
the paired mean and median difference with intervals; both sides' latency, cost
and token distributions; both error rates; and the worst disagreements side by
side, because a number never says *what* changed. :func:`summarise` is pure, so
the CLI (text, ``--json``, ``--html``) and the promotion policy read one value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import cast

from turnout.domain.comparators import JUDGE, ComparatorKind, builtin_registry
from turnout.domain.completions import Completion, Message
from turnout.domain.intervals import Interval, mean_interval, median_interval, wilson_interval
from turnout.domain.sequential import empirical_quantile
from turnout.domain.shadow import ShadowPair
from turnout.errors import InvalidInput

__all__ = [
    "AgreementSummary",
    "DeltaSummary",
    "Disagreement",
    "Distribution",
    "ErrorRate",
    "HistogramBin",
    "ReportWindow",
    "ScoredPair",
    "ShadowReport",
    "SideDistribution",
    "prompt_text",
    "summarise",
]

ScoredPair = tuple[ShadowPair, Mapping[str, float | None]]
"""A pair and its comparator scores by name (None: the comparator did not apply)."""

_METRICS: tuple[tuple[str, str, Callable[[Completion], float | None]], ...] = (
    ("latency_ms", "ms", lambda c: c.latency_ms),
    ("ttft_ms", "ms", lambda c: c.ttft_ms),
    ("tokens_out", "tokens", lambda c: None if c.tokens_out is None else float(c.tokens_out)),
    ("cost_usd", "USD", lambda c: c.cost_usd),
)


def _plain(value: object) -> object:
    """A report value as JSON-ready data: dataclasses to dicts, datetimes to ISO 8601."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class ReportWindow:
    """The time range the pairs were taken from (None: open-ended)."""

    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class AgreementSummary:
    """An agreement comparator's mean over the pairs it applied to.

    ``method`` is ``wilson`` when every score was 0 or 1 (a rate), ``t`` for
    scores in between (Student's t, clipped to [0, 1]), ``none`` without data.
    """

    name: str
    n: int
    not_applicable: int
    mean: float | None
    interval: Interval | None
    method: str


@dataclass(frozen=True, slots=True)
class HistogramBin:
    """``count`` values in [low, high) (the last bin includes its high end)."""

    low: float
    high: float
    count: int


@dataclass(frozen=True, slots=True)
class DeltaSummary:
    """A delta (or ratio) comparator: paired mean and median with their intervals."""

    name: str
    kind: ComparatorKind
    unit: str
    n: int
    not_applicable: int
    mean: float | None
    mean_interval: Interval | None
    median: float | None
    median_interval: Interval | None
    histogram: tuple[HistogramBin, ...]


@dataclass(frozen=True, slots=True)
class SideDistribution:
    """One side's successful calls: how many reported the metric, p50, p95, sum."""

    n: int
    p50: float | None
    p95: float | None
    total: float | None


@dataclass(frozen=True, slots=True)
class Distribution:
    """A metric on both sides (quantiles as the rollout gates compute them)."""

    metric: str
    unit: str
    primary: SideDistribution
    candidate: SideDistribution


@dataclass(frozen=True, slots=True)
class ErrorRate:
    """``errors`` failed calls out of ``n``, with a Wilson interval."""

    errors: int
    n: int
    rate: float | None
    interval: Interval | None


@dataclass(frozen=True, slots=True)
class Disagreement:
    """One pair shown side by side: the prompt, both answers (or errors), all scores."""

    request_id: str
    at: datetime
    prompt: str
    primary_text: str
    candidate_text: str
    primary_error: str | None
    candidate_error: str | None
    scores: Mapping[str, float | None]


@dataclass(frozen=True, slots=True)
class ShadowReport:
    """Everything ``shadow report`` prints, for one alias and one candidate."""

    alias: str
    candidate: str
    window: ReportWindow
    pairs: int
    primary_versions: tuple[str, ...]
    sources: Mapping[str, int]
    confidence: float
    agreements: tuple[AgreementSummary, ...]
    deltas: tuple[DeltaSummary, ...]
    distributions: tuple[Distribution, ...]
    primary_errors: ErrorRate
    candidate_errors: ErrorRate
    worst_by: str
    worst: tuple[Disagreement, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready (``--json``): plain dicts, lists, strings, numbers and None.

        Field names are the JSON keys; intervals are ``{"low", "high"}`` objects,
        datetimes ISO 8601 strings, kinds their string value.
        """
        return cast(dict[str, object], _plain(self))


def prompt_text(messages: Sequence[Message]) -> str:
    """The conversation as ``role: text`` lines (text parts of multi-part content only)."""
    lines = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            parts = [p.get("text") for p in content if isinstance(p, dict)]
            content = "\n".join(p for p in parts if isinstance(p, str))
        lines.append(f"{message.get('role', '?')}: {content if content is not None else ''}")
    return "\n".join(lines)


def _agreement(name: str, scores: list[float], total: int, confidence: float) -> AgreementSummary:
    n = len(scores)
    if n == 0:
        return AgreementSummary(name, 0, total, None, None, "none")
    mean = math.fsum(scores) / n
    if all(score in (0.0, 1.0) for score in scores):
        interval: Interval | None = wilson_interval(round(math.fsum(scores)), n, confidence)
        method = "wilson"
    else:
        raw = mean_interval(scores, confidence)
        interval = None if raw is None else Interval(max(0.0, raw.low), min(1.0, raw.high))
        method = "t"
    return AgreementSummary(name, n, total - n, mean, interval, method)


def _histogram(ordered: Sequence[float], bins: int) -> tuple[HistogramBin, ...]:
    if not ordered:
        return ()
    low, high = ordered[0], ordered[-1]
    if low == high:
        return (HistogramBin(low, high, len(ordered)),)
    width = (high - low) / bins
    counts = [0] * bins
    for value in ordered:
        counts[min(int((value - low) / width), bins - 1)] += 1
    return tuple(
        HistogramBin(low + i * width, high if i == bins - 1 else low + (i + 1) * width, count)
        for i, count in enumerate(counts)
    )


def _delta(
    name: str,
    kind: ComparatorKind,
    unit: str,
    values: list[float],
    total: int,
    confidence: float,
    bins: int,
) -> DeltaSummary:
    ordered = sorted(values)
    n = len(ordered)
    mean = math.fsum(ordered) / n if n else None
    median = None
    if n:
        middle = n // 2
        median = ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2.0
    return DeltaSummary(
        name,
        kind,
        unit,
        n,
        total - n,
        mean,
        mean_interval(ordered, confidence),
        median,
        median_interval(ordered, confidence),
        _histogram(ordered, bins),
    )


def _side(values: list[float]) -> SideDistribution:
    if not values:
        return SideDistribution(0, None, None, None)
    ordered = sorted(values)
    return SideDistribution(
        len(ordered),
        empirical_quantile(ordered, 0.5),
        empirical_quantile(ordered, 0.95),
        math.fsum(ordered),
    )


def _distribution(
    metric: str, unit: str, read: Callable[[Completion], float | None], pairs: Sequence[ShadowPair]
) -> Distribution:
    def values(side: Callable[[ShadowPair], Completion]) -> list[float]:
        found = (read(side(p)) for p in pairs if side(p).ok)
        return [float(v) for v in found if v is not None]

    return Distribution(
        metric, unit, _side(values(lambda p: p.primary)), _side(values(lambda p: p.candidate))
    )


def _error_rate(failed: int, n: int, confidence: float) -> ErrorRate:
    if n == 0:
        return ErrorRate(0, 0, None, None)
    return ErrorRate(failed, n, failed / n, wilson_interval(failed, n, confidence))


def _default_kinds() -> dict[str, tuple[ComparatorKind, str]]:
    kinds = builtin_registry().kinds()
    kinds.setdefault("embedding", (ComparatorKind.AGREEMENT, ""))
    return kinds


def _names_in_order(scored: Sequence[ScoredPair]) -> list[str]:
    seen: dict[str, None] = {}
    for _, scores in scored:
        seen.update(dict.fromkeys(scores))
    return list(seen)


def _worst(scored: Sequence[ScoredPair], worst_by: str, limit: int) -> tuple[Disagreement, ...]:
    ranked = sorted(
        (
            (value, pair.at, pair.request_id, pair, scores)
            for pair, scores in scored
            if (value := scores.get(worst_by)) is not None and value < 1.0
        ),
        key=lambda row: row[:3],
    )
    return tuple(
        Disagreement(
            pair.request_id,
            pair.at,
            prompt_text(pair.messages),
            pair.primary.text,
            pair.candidate.text,
            pair.primary.error,
            pair.candidate.error,
            dict(scores),
        )
        for _, _, _, pair, scores in ranked[:limit]
    )


def summarise(
    alias: str,
    candidate: str,
    pairs_with_scores: Sequence[ScoredPair],
    window: ReportWindow,
    *,
    kinds: Mapping[str, tuple[ComparatorKind, str]] | None = None,
    worst_by: str = "token_set",
    worst_limit: int = 10,
    confidence: float = 0.95,
    histogram_bins: int = 20,
) -> ShadowReport:
    """The report on ``candidate`` shadowing ``alias`` from already-scored pairs.

    ``kinds`` maps each comparator name in the scores to (kind, unit); the
    default knows the built-ins, ``embedding`` and ``judge``. Comparators are
    reported in the order they first appear in the scores. ``worst_by`` is the
    agreement comparator that ranks the worst disagreements (lowest first, ties
    oldest first; pairs it scored 1 or did not apply to are not disagreements).
    """
    if worst_limit < 0 or histogram_bins < 1:
        raise InvalidInput("worst_limit must be >= 0 and histogram_bins >= 1")
    known = _default_kinds() if kinds is None else dict(kinds)
    known.setdefault(JUDGE, (ComparatorKind.AGREEMENT, ""))
    names = _names_in_order(pairs_with_scores)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InvalidInput(f"no kind known for comparator(s) {', '.join(map(repr, unknown))}")
    if worst_by in known and known[worst_by][0] is not ComparatorKind.AGREEMENT:
        raise InvalidInput(f"worst disagreements need an agreement comparator, not '{worst_by}'")
    for pair, _ in pairs_with_scores:
        if pair.candidate.version != candidate or pair.alias != alias:
            raise InvalidInput(
                f"pair {pair.request_id} is {pair.alias} -> {pair.candidate.version}, "
                f"not {alias} -> {candidate}"
            )
    pairs = [pair for pair, _ in pairs_with_scores]
    total = len(pairs)
    agreements, deltas = [], []
    for name in names:
        kind, unit = known[name]
        values = [v for _, s in pairs_with_scores if (v := s.get(name)) is not None]
        if kind is ComparatorKind.AGREEMENT:
            agreements.append(_agreement(name, values, total, confidence))
        else:
            deltas.append(_delta(name, kind, unit, values, total, confidence, histogram_bins))
    sources: dict[str, int] = {}
    for pair in pairs:
        sources[pair.source] = sources.get(pair.source, 0) + 1
    return ShadowReport(
        alias=alias,
        candidate=candidate,
        window=window,
        pairs=total,
        primary_versions=tuple(sorted({pair.primary.version for pair in pairs})),
        sources=sources,
        confidence=confidence,
        agreements=tuple(agreements),
        deltas=tuple(deltas),
        distributions=tuple(_distribution(m, u, read, pairs) for m, u, read in _METRICS),
        primary_errors=_error_rate(sum(not p.primary.ok for p in pairs), total, confidence),
        candidate_errors=_error_rate(sum(not p.candidate.ok for p in pairs), total, confidence),
        worst_by=worst_by,
        worst=_worst(pairs_with_scores, worst_by, worst_limit),
    )
