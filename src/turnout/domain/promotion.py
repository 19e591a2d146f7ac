"""Promotion policy: the evidence an alias demands before it serves a new version.

An alias may require, before it points at a version it does not serve yet (by
``alias set``, ``apply`` or a rollout), a passing eval run of named suites on
that version — no worse than the version it serves now by more than a tolerance
— and optionally a minimum number of shadow pairs of that version on this
alias's live traffic. The decision is a pure function of the policy and the
evidence the service gathers; a refusal lists *every* missing piece, with the
command that would produce it, so one round trip tells the operator what to do.

Rolling back is never subject to the policy: restoring what was served before
must stay instant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from turnout.errors import InvalidInput

__all__ = [
    "PromotionDecision",
    "PromotionPolicy",
    "RunEvidence",
    "SuiteEvidence",
    "decide_promotion",
]


@dataclass(frozen=True, slots=True)
class PromotionPolicy:
    """What an alias requires of a new version.

    ``suites``: eval suites that must each have a run on the new version, with a
    mean score of at least ``min_score`` (if set) and at most ``max_regression``
    below the latest run of the *same suite content* on the current version.
    ``min_shadow_pairs``: live shadow pairs of the new version on this alias.
    ``max_age_days``: older runs do not count (the model or the suite moved on).
    """

    suites: tuple[str, ...] = ()
    min_score: float | None = None
    max_regression: float = 0.0
    min_shadow_pairs: int = 0
    max_age_days: float = 30.0

    def __post_init__(self) -> None:
        if len(set(self.suites)) != len(self.suites):
            raise InvalidInput("promotion policy lists a suite twice")
        if any(not s.strip() for s in self.suites):
            raise InvalidInput("promotion policy suite names must not be empty")
        if self.min_score is not None and not 0.0 <= self.min_score <= 1.0:
            raise InvalidInput(f"promotion min_score must be in [0, 1], got {self.min_score}")
        if not 0.0 <= self.max_regression <= 1.0 or math.isnan(self.max_regression):
            raise InvalidInput(
                f"promotion max_regression must be in [0, 1], got {self.max_regression}"
            )
        if self.min_shadow_pairs < 0:
            raise InvalidInput("promotion min_shadow_pairs must not be negative")
        if not self.max_age_days > 0:
            raise InvalidInput("promotion max_age_days must be positive")
        if not self.suites and self.min_shadow_pairs == 0:
            raise InvalidInput("a promotion policy needs suites or min_shadow_pairs (or both)")

    def to_dict(self) -> dict[str, object]:
        return {
            "suites": list(self.suites),
            "min_score": self.min_score,
            "max_regression": self.max_regression,
            "min_shadow_pairs": self.min_shadow_pairs,
            "max_age_days": self.max_age_days,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> PromotionPolicy:
        known = {"suites", "min_score", "max_regression", "min_shadow_pairs", "max_age_days"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(
                f"promotion policy: unknown key(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})"
            )
        suites = data.get("suites") or []
        if not isinstance(suites, list) or not all(isinstance(s, str) for s in suites):
            raise InvalidInput("promotion 'suites' must be a list of suite names")
        return cls(
            tuple(suites),
            _optional_number(data, "min_score"),
            _optional_number(data, "max_regression") or 0.0,
            int(_optional_number(data, "min_shadow_pairs") or 0),
            _optional_number(data, "max_age_days") or 30.0,
        )

    def describe(self) -> str:
        parts = []
        if self.suites:
            text = f"eval {', '.join(self.suites)}"
            if self.min_score is not None:
                text += f" >= {self.min_score:g}"
            text += f", at most {self.max_regression:g} below the current version"
            parts.append(text)
        if self.min_shadow_pairs:
            parts.append(f">= {self.min_shadow_pairs} shadow pairs")
        return "; ".join(parts)


def _optional_number(data: Mapping[str, object], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"promotion '{key}' must be a number, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class RunEvidence:
    """One stored eval run, as much of it as a promotion needs."""

    run_id: int
    suite_hash: str
    mean_score: float
    finished_at: datetime


@dataclass(frozen=True, slots=True)
class SuiteEvidence:
    """For one suite: the newest run on the candidate, and the current version's newest
    run of the *same suite content* (same hash), if any."""

    suite: str
    candidate: RunEvidence | None
    current: RunEvidence | None


@dataclass(frozen=True, slots=True)
class PromotionDecision:
    """``allowed``, or the list of what is missing; ``scores`` are stamped on promotion."""

    missing: tuple[str, ...]
    scores: Mapping[str, float] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return not self.missing


def decide_promotion(
    policy: PromotionPolicy,
    candidate: str,
    current: str | None,
    suites: Sequence[SuiteEvidence],
    shadow_pairs: int,
    now: datetime,
    alias: str,
) -> PromotionDecision:
    """Whether ``alias`` may move from ``current`` to ``candidate``, and why not."""
    missing: list[str] = []
    scores: dict[str, float] = {}
    by_suite = {s.suite: s for s in suites}
    for name in policy.suites:
        evidence = by_suite.get(name)
        run = evidence.candidate if evidence else None
        if run is None or (now - run.finished_at).total_seconds() > policy.max_age_days * 86400:
            age = "" if run is None else f" newer than {policy.max_age_days:g} days"
            missing.append(
                f"an eval run of suite '{name}'{age} on {candidate} "
                f"(turnout eval run SUITE_FILE --version {candidate})"
            )
            continue
        scores[f"eval:{name}"] = run.mean_score
        if policy.min_score is not None and run.mean_score < policy.min_score:
            missing.append(
                f"suite '{name}' on {candidate} scored {run.mean_score:.3f} (run {run.run_id}), "
                f"below the required {policy.min_score:g}"
            )
        baseline = evidence.current if evidence else None
        if current is None:
            continue
        if baseline is None:
            missing.append(
                f"a run of suite '{name}' (hash {run.suite_hash[:12]}) on the current version "
                f"{current} to compare with (turnout eval run SUITE_FILE --version {current})"
            )
        elif run.mean_score < baseline.mean_score - policy.max_regression:
            missing.append(
                f"suite '{name}': {candidate} scored {run.mean_score:.3f} (run {run.run_id}), "
                f"more than {policy.max_regression:g} below {current}'s "
                f"{baseline.mean_score:.3f} (run {baseline.run_id})"
            )
    if policy.min_shadow_pairs:
        scores["shadow:pairs"] = float(shadow_pairs)
        if shadow_pairs < policy.min_shadow_pairs:
            missing.append(
                f"{policy.min_shadow_pairs} live shadow pairs of {candidate} on '{alias}' "
                f"(has {shadow_pairs}; turnout shadow start {alias} --candidate {candidate})"
            )
    return PromotionDecision(tuple(missing), scores)
