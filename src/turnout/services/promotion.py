"""Gathering promotion evidence and enforcing an alias's promotion policy.

The decision itself is pure (:func:`turnout.domain.promotion.decide_promotion`);
this module reads what it needs inside the caller's unit of work — the newest
eval runs of the policy's suites on the candidate and on the current version,
and the candidate's shadow pairs on the alias — and stamps the scores into the
version's record once the alias really serves it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from turnout.domain.eval_runs import EvalRun
from turnout.domain.ids import VersionId
from turnout.domain.promotion import (
    PromotionDecision,
    PromotionPolicy,
    RunEvidence,
    SuiteEvidence,
    decide_promotion,
)
from turnout.errors import PromotionRefused
from turnout.ports import RegistryStore, UnitOfWork

__all__ = ["gather_decision", "require_fallback_evals", "require_promotion", "stamp_promotion"]

_BASELINE_RUNS = 50
"""How many of the current version's recent runs of a suite are searched for the same hash."""


def _evidence(run: EvalRun | None) -> RunEvidence | None:
    if run is None or run.id is None:
        return None
    return RunEvidence(run.id, run.suite_hash, run.aggregate.mean_score, run.finished_at)


def gather_decision(
    uow: UnitOfWork,
    store: RegistryStore,
    alias: str,
    policy: PromotionPolicy,
    candidate: VersionId,
    current: VersionId | None,
    now: datetime,
) -> PromotionDecision:
    """The policy's verdict on ``alias`` moving from ``current`` to ``candidate``."""
    suites = []
    for name in policy.suites:
        newest = uow.evals.recent(suite=name, version=str(candidate), limit=1)
        run = newest[0] if newest else None
        baseline = None
        if run is not None and current is not None:
            recent = uow.evals.recent(suite=name, version=str(current), limit=_BASELINE_RUNS)
            baseline = next((r for r in recent if r.suite_hash == run.suite_hash), None)
        suites.append(SuiteEvidence(name, _evidence(run), _evidence(baseline)))
    pairs = 0
    if policy.min_shadow_pairs:
        counts = store.shadow_counts(alias)
        pairs = next((c.pairs for c in counts if c.candidate == str(candidate)), 0)
    return decide_promotion(
        policy, str(candidate), str(current) if current else None, suites, pairs, now, alias
    )


def require_promotion(
    uow: UnitOfWork,
    store: RegistryStore,
    alias: str,
    policy: PromotionPolicy,
    candidate: VersionId,
    current: VersionId | None,
    now: datetime,
) -> PromotionDecision:
    """:func:`gather_decision`, raising :class:`PromotionRefused` listing what is missing."""
    decision = gather_decision(uow, store, alias, policy, candidate, current, now)
    if not decision.allowed:
        lines = "; ".join(decision.missing)
        raise PromotionRefused(
            f"alias '{alias}' requires evidence before it serves {candidate} "
            f"({policy.describe()}); missing: {lines}"
        )
    return decision


def stamp_promotion(uow: UnitOfWork, vid: VersionId, decision: PromotionDecision) -> None:
    """Record the evidence's scores in the version's ``eval_scores`` (newest wins)."""
    if not decision.scores:
        return
    version = uow.versions.get(vid)
    if version is not None:
        scores = {**version.eval_scores, **decision.scores}
        uow.versions.update(replace(version, eval_scores=scores))


def require_fallback_evals(
    uow: UnitOfWork,
    alias: str,
    policy: PromotionPolicy,
    fallbacks: tuple[VersionId, ...],
) -> None:
    """A *new* fallback of a guarded alias needs an eval run of each of the policy's suites.

    A fallback serves when the primary cannot: without this an outage would
    quietly promote a version nobody evaluated. (Chains that fall behind later,
    when a suite is added, are flagged by ``turnout health`` and ``plan``.)
    """
    missing = [
        f"an eval run of suite '{suite}' on {vid} (turnout eval run SUITE_FILE --version {vid})"
        for vid in fallbacks
        for suite in policy.suites
        if not uow.evals.recent(suite=suite, version=str(vid), limit=1)
    ]
    if missing:
        raise PromotionRefused(
            f"alias '{alias}' has a promotion policy, so a new fallback needs the same "
            f"evidence of quality; missing: {'; '.join(missing)}"
        )
