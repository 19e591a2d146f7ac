"""The shadow report's summary on a hand-built set of scored pairs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from turnout.domain.comparators import ComparatorKind
from turnout.domain.completions import Completion
from turnout.domain.intervals import Interval
from turnout.domain.shadow import ShadowPair
from turnout.domain.shadow_report import (
    ReportWindow,
    ScoredPair,
    prompt_text,
    summarise,
)
from turnout.errors import InvalidInput

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
PRIMARY, CANDIDATE = "sim/chat-2025-01-01", "sim/chat-2025-06-01"
WINDOW = ReportWindow(START, START + timedelta(hours=1))


def make_pair(i: int, *, candidate_error: str | None = None, source: str = "live") -> ShadowPair:
    primary_latency = 100.0 + 10 * i
    return ShadowPair(
        request_id=f"r{i:02d}",
        at=START + timedelta(minutes=i),
        alias="prod-chat",
        messages=[{"role": "user", "content": f"question {i}"}],
        primary=Completion(PRIMARY, f"answer {i}", primary_latency, None, 5, 10, 0.001),
        candidate=Completion(
            CANDIDATE,
            "" if candidate_error else f"candidate answer {i}",
            primary_latency + 10 * (i + 1),
            None,
            5,
            12,
            0.0005,
            candidate_error,
        ),
        source=source,
    )


TOKEN_SET = [1.0] * 8 + [0.5, 0.2]


def scored_pairs() -> list[ScoredPair]:
    """Ten pairs (exact 8/10, latency deltas 10..100 ms) and one failed candidate."""
    rows: list[ScoredPair] = []
    for i in range(10):
        scores: Mapping[str, float | None] = {
            "exact": 1.0 if i < 8 else 0.0,
            "token_set": TOKEN_SET[i],
            "latency_ms": 10.0 * (i + 1),
        }
        rows.append((make_pair(i, source="replay" if i == 0 else "live"), scores))
    rows.append(
        (
            make_pair(10, candidate_error="timeout"),
            {"exact": None, "token_set": None, "latency_ms": None},
        )
    )
    return rows


def test_agreements_get_wilson_for_rates_and_t_for_scores() -> None:
    report = summarise("prod-chat", CANDIDATE, scored_pairs(), WINDOW)
    exact, token_set = report.agreements
    assert (exact.name, exact.n, exact.not_applicable, exact.method) == ("exact", 10, 1, "wilson")
    assert exact.mean == pytest.approx(0.8)
    assert exact.interval is not None
    assert exact.interval.low == pytest.approx(0.4902, abs=1e-4)
    assert exact.interval.high == pytest.approx(0.9433, abs=1e-4)
    assert token_set.method == "t"
    assert token_set.mean == pytest.approx(0.87)
    assert token_set.interval is not None
    assert token_set.interval.high == 1.0  # clipped to [0, 1]
    assert 0.0 < token_set.interval.low < 0.87


def test_deltas_get_paired_mean_and_median_intervals() -> None:
    report = summarise("prod-chat", CANDIDATE, scored_pairs(), WINDOW)
    (latency,) = report.deltas
    assert (latency.name, latency.kind, latency.unit, latency.n) == (
        "latency_ms",
        ComparatorKind.DELTA,
        "ms",
        10,
    )
    assert latency.mean == pytest.approx(55.0)
    assert latency.median == pytest.approx(55.0)
    # sd of 10..100 = 30.2765; t(0.975, 9) = 2.262157 -> half-width 21.659
    assert latency.mean_interval is not None
    assert latency.mean_interval.low == pytest.approx(33.341, abs=1e-3)
    assert latency.mean_interval.high == pytest.approx(76.659, abs=1e-3)
    assert latency.median_interval == Interval(20.0, 90.0)
    assert sum(b.count for b in latency.histogram) == 10
    assert latency.histogram[0].low == 10.0
    assert latency.histogram[-1].high == 100.0


def test_distributions_error_rates_and_counts() -> None:
    report = summarise("prod-chat", CANDIDATE, scored_pairs(), WINDOW)
    assert report.pairs == 11
    assert report.sources == {"replay": 1, "live": 10}
    assert report.primary_versions == (PRIMARY,)
    latency = next(d for d in report.distributions if d.metric == "latency_ms")
    # primary 100..200 (11 calls), candidate 110..290 step 20 (10 successful calls)
    assert (latency.primary.n, latency.primary.p50, latency.primary.p95) == (11, 150.0, 200.0)
    assert (latency.candidate.n, latency.candidate.p50, latency.candidate.p95) == (
        10,
        210.0,
        290.0,
    )
    cost = next(d for d in report.distributions if d.metric == "cost_usd")
    assert cost.primary.total == pytest.approx(0.011)
    assert cost.candidate.total == pytest.approx(0.005)
    ttft = next(d for d in report.distributions if d.metric == "ttft_ms")
    assert ttft.primary.n == 0
    assert ttft.primary.p50 is None
    assert (report.primary_errors.errors, report.primary_errors.rate) == (0, 0.0)
    assert report.candidate_errors.errors == 1
    assert report.candidate_errors.rate == pytest.approx(1 / 11)
    assert report.candidate_errors.interval is not None
    assert report.candidate_errors.interval.low > 0.0


def test_worst_disagreements_lowest_first_side_by_side() -> None:
    report = summarise("prod-chat", CANDIDATE, scored_pairs(), WINDOW, worst_limit=5)
    assert report.worst_by == "token_set"
    assert [w.request_id for w in report.worst] == ["r09", "r08"]  # 1.0s are not disagreements
    worst = report.worst[0]
    assert worst.prompt == "user: question 9"
    assert (worst.primary_text, worst.candidate_text) == ("answer 9", "candidate answer 9")
    assert worst.scores == {"exact": 0.0, "token_set": 0.2, "latency_ms": 100.0}
    by_exact = summarise("prod-chat", CANDIDATE, scored_pairs(), WINDOW, worst_by="exact")
    assert [w.request_id for w in by_exact.worst] == ["r08", "r09"]  # ties: oldest first


def test_to_dict_is_json_ready() -> None:
    report = summarise("prod-chat", CANDIDATE, scored_pairs(), WINDOW)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["alias"] == "prod-chat"
    assert data["window"] == {
        "start": "2026-01-15T09:00:00+00:00",
        "end": "2026-01-15T10:00:00+00:00",
    }
    assert data["agreements"][0]["interval"]["low"] == pytest.approx(0.4902, abs=1e-4)
    assert data["deltas"][0]["kind"] == "delta"
    assert data["deltas"][0]["median_interval"] == {"low": 20.0, "high": 90.0}
    assert data["candidate_errors"]["errors"] == 1
    assert data["worst"][0]["at"] == "2026-01-15T09:09:00+00:00"


def test_an_empty_window_is_a_report_of_nothing() -> None:
    report = summarise("prod-chat", CANDIDATE, [], ReportWindow())
    assert report.pairs == 0
    assert report.agreements == ()
    assert report.worst == ()
    assert report.candidate_errors.rate is None
    assert json.dumps(report.to_dict())


def test_comparators_with_no_applicable_pair() -> None:
    rows: list[ScoredPair] = [(make_pair(0), {"json_equal": None, "cost_usd": None})]
    report = summarise("prod-chat", CANDIDATE, rows, WINDOW)
    assert report.agreements[0].method == "none"
    assert report.agreements[0].interval is None
    assert report.deltas[0].mean is None
    assert report.deltas[0].histogram == ()


def test_judge_and_custom_kinds() -> None:
    rows: list[ScoredPair] = [
        (make_pair(i), {"judge": 0.5 + i / 20, "mine": 2.0}) for i in range(3)
    ]
    with pytest.raises(InvalidInput, match="'mine'"):
        summarise("prod-chat", CANDIDATE, rows, WINDOW)
    report = summarise(
        "prod-chat",
        CANDIDATE,
        rows,
        WINDOW,
        kinds={"mine": (ComparatorKind.RATIO, "x")},
        worst_by="judge",
    )
    assert [a.name for a in report.agreements] == ["judge"]
    assert [(d.name, d.kind) for d in report.deltas] == [("mine", ComparatorKind.RATIO)]
    assert report.worst[0].request_id == "r00"


def test_refuses_mixed_candidates_and_delta_ranking() -> None:
    rows = scored_pairs()
    with pytest.raises(InvalidInput, match="not prod-chat -> sim/other"):
        summarise("prod-chat", "sim/other", rows, WINDOW)
    with pytest.raises(InvalidInput, match="agreement comparator"):
        summarise("prod-chat", CANDIDATE, rows, WINDOW, worst_by="latency_ms")


def test_prompt_text_flattens_multi_part_content() -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url"}]},
        {"role": "assistant", "content": None},
    ]
    assert prompt_text(messages) == "system: be brief\nuser: hi\nassistant: "
