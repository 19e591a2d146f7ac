"""Shadow reports and replays through the service, on both databases: the numbers
come from the stored pairs, a replay asks the candidate the captured prompts again
(the real sim, through the real model caller), and bad requests fail early."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.completions import Completion
from turnout.domain.shadow import ShadowPair
from turnout.errors import InvalidInput, NotFound
from turnout.services.registry import Registry
from turnout.services.shadow_analysis import ReportRequest, ShadowAnalysis
from turnout.wiring import build_model_caller

PRIMARY = "sim/chat-2025-01-01"
CANDIDATE = "sim/chat-2025-06-01"
WRONG = "sim/chat-2025-07-01"  # answers arithmetic wrong every time
ALIAS = "prod-chat"


@pytest.fixture(autouse=True)
def _alias(registry: Registry) -> None:
    registry.versions.add(LOCAL_ADMIN, PRIMARY, {"quality": 1.0})
    registry.versions.add(LOCAL_ADMIN, CANDIDATE, {"quality": 1.0})
    registry.versions.add(LOCAL_ADMIN, WRONG, {"quality": 0.0})
    registry.aliases.set(LOCAL_ADMIN, ALIAS, PRIMARY)


def _pairs(registry: Registry, agree: int, disagree: int) -> list[ShadowPair]:
    now = registry.ctx.now()
    pairs = []
    for i in range(agree + disagree):
        answer = f"The answer is {2 * i}."
        candidate_text = answer if i < agree else "I cannot help with that."
        pairs.append(
            ShadowPair(
                request_id=f"req_{i:04d}",
                at=now - timedelta(minutes=i),
                alias=ALIAS,
                messages=[{"role": "user", "content": f"What is {i} + {i}?"}],
                primary=Completion(PRIMARY, answer, 100.0, tokens_in=5, tokens_out=5),
                candidate=Completion(CANDIDATE, candidate_text, 150.0, tokens_in=5, tokens_out=6),
            )
        )
    registry.ctx.store.log_shadow_pairs(pairs)
    return pairs


def _analysis(registry: Registry) -> ShadowAnalysis:
    return ShadowAnalysis(registry.ctx, registry.shadow, build_model_caller(registry))


def test_a_report_summarises_the_stored_pairs(registry: Registry) -> None:
    _pairs(registry, agree=8, disagree=2)
    report = asyncio.run(_analysis(registry).report(ReportRequest(ALIAS)))
    assert (report.candidate, report.pairs) == (CANDIDATE, 10)
    exact = next(a for a in report.agreements if a.name == "exact")
    assert exact.mean == pytest.approx(0.8)
    assert exact.interval is not None
    assert exact.interval.low == pytest.approx(0.4902, abs=1e-3)  # Wilson 8/10
    latency = next(d for d in report.deltas if d.name == "latency_ms")
    assert latency.mean == pytest.approx(50.0)
    assert len(report.worst) == 2
    assert all("cannot help" in w.candidate_text for w in report.worst)


def test_report_refusals(registry: Registry) -> None:
    analysis = _analysis(registry)
    with pytest.raises(NotFound, match="no shadow pairs"):
        asyncio.run(analysis.report(ReportRequest(ALIAS)))
    _pairs(registry, 2, 0)
    with pytest.raises(InvalidInput, match="known"):
        asyncio.run(analysis.report(ReportRequest(ALIAS, comparators=("exact", "vibes"))))
    with pytest.raises(InvalidInput, match="judge"):
        asyncio.run(analysis.report(ReportRequest(ALIAS, comparators=("exact", "judge"))))
    with pytest.raises(NotFound):
        asyncio.run(analysis.report(ReportRequest("nope", CANDIDATE)))


def test_replay_asks_the_candidate_the_captured_prompts(registry: Registry) -> None:
    _pairs(registry, agree=6, disagree=0)
    analysis = _analysis(registry)
    seen: list[int] = []
    outcome = asyncio.run(
        analysis.replay(ALIAS, WRONG, limit=4, concurrency=2, progress=lambda d, _t: seen.append(d))
    )
    assert (outcome.pairs, outcome.candidate_errors) == (4, 0)
    assert sorted(seen) == [1, 2, 3, 4]
    replayed = registry.shadow.pairs(ALIAS, WRONG, source="replay")
    assert len(replayed) == 4
    assert all(p.candidate.version == WRONG and p.candidate.text for p in replayed)
    assert {p.request_id for p in replayed} <= {f"req_{i:04d}" for i in range(6)}
    # the wrong model's arithmetic disagrees with what the client was served
    report = asyncio.run(analysis.report(ReportRequest(ALIAS, WRONG, source="replay")))
    assert next(a for a in report.agreements if a.name == "exact").mean == 0.0
    with pytest.raises(NotFound, match="not registered"):
        asyncio.run(analysis.replay(ALIAS, "sim/chat-2030-01-01"))
    with pytest.raises(InvalidInput):
        asyncio.run(analysis.replay(ALIAS, WRONG, limit=0))


def test_replay_without_captured_requests_says_what_to_do(registry: Registry) -> None:
    with pytest.raises(NotFound, match="shadow it first"):
        asyncio.run(_analysis(registry).replay(ALIAS, CANDIDATE))
