"""Gate specs, their evaluation on evidence, and the advance/hold/rollback decision."""

from __future__ import annotations

import json
import math
import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.domain.gates import (
    DEFAULT_GATES,
    ArmObservations,
    CountSegment,
    Decision,
    Evidence,
    GateResult,
    GateSpec,
    Metric,
    Tolerance,
    Verdict,
    decide,
    evaluate_gates,
)
from turnout.domain.sequential import Moments
from turnout.errors import InvalidInput

ERRORS = GateSpec(Metric.ERROR_RATE, max_ratio=1.0)
P95 = GateSpec(Metric.LATENCY_P95, max_ratio=1.2)
QUALITY = GateSpec(Metric.QUALITY, max_decrease=0.05)


def _latencies(rng: random.Random, n: int, mean: float = 800.0) -> tuple[float, ...]:
    """The sim provider's latency: uniform within +-10 % of the mean."""
    return tuple(mean * (0.9 + 0.2 * rng.random()) for _ in range(n))


def _scores(rng: random.Random, n: int, p: float) -> Moments:
    return Moments.of(1.0 if rng.random() < p else 0.0 for _ in range(n))


def _arm(
    rng: random.Random,
    requests: int,
    errors: int,
    latency: float = 800.0,
    quality: float = 0.9,
) -> ArmObservations:
    ok = requests - errors
    sample = _latencies(rng, min(ok, 2000), latency)
    return ArmObservations(
        requests=requests,
        errors=errors,
        latency_ms=Moments.of(sample),
        quality=_scores(rng, ok, quality),
        latency_sample=sample,
    )


def _verdicts(results: tuple[GateResult, ...]) -> dict[Metric, Verdict]:
    return {result.metric: result.verdict for result in results}


# --- specs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"metric": "latency_p95"}, "exactly one tolerance"),
        ({"metric": "latency_p95", "max_ratio": 1.2, "max_increase": 100}, "max_ratio and"),
        ({"metric": "latency_p99", "max_ratio": 1.2}, "unknown gate metric 'latency_p99'"),
        ({"max_ratio": 1.2}, "needs a 'metric'"),
        ({"metric": "latency_p95", "max_ratios": 1.2}, "unknown key"),
        ({"metric": "latency_p95", "max_ratio": "1.2x"}, "must be a number"),
        ({"metric": "latency_p95", "max_ratio": True}, "must be a number"),
        ({"metric": "latency_p95", "max_ratio": 0.8}, "max_ratio must be >= 1.0"),
        ({"metric": "latency_p95", "max_increase": -5}, "finite number >= 0"),
        ({"metric": "latency_p95", "max_increase": math.inf}, "finite number >= 0"),
        ({"metric": "latency_p95", "max_decrease": 0.1}, "max_decrease applies to quality only"),
        ({"metric": "quality", "max_ratio": 1.1}, "higher-is-better: use max_decrease"),
        ({"metric": "quality", "max_increase": 0.1}, "higher-is-better"),
        ({"metric": "quality", "max_decrease": 1.5}, "scores lie in"),
        ({"metric": "error_rate", "max_increase": 1.0}, "0.01 = 1 pp"),
    ],
)
def test_bad_gate_specs_are_refused_with_a_clear_message(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        GateSpec.from_dict(data)


def test_a_spec_built_from_a_string_metric_is_normalised() -> None:
    spec = GateSpec("latency_p95", max_ratio=1.2)  # type: ignore[arg-type]
    assert spec.metric is Metric.LATENCY_P95
    with pytest.raises(InvalidInput, match="unknown gate metric"):
        GateSpec("p95", max_ratio=1.2)  # type: ignore[arg-type]


TOLERANCES = [
    *[(m, Tolerance.MAX_RATIO, 1.25) for m in Metric if m is not Metric.QUALITY],
    *[(m, Tolerance.MAX_INCREASE, 0.01) for m in Metric if m is not Metric.QUALITY],
    (Metric.QUALITY, Tolerance.MAX_DECREASE, 0.05),
]


@pytest.mark.parametrize(("metric", "kind", "value"), TOLERANCES)
def test_specs_round_trip_through_dicts(metric: Metric, kind: Tolerance, value: float) -> None:
    spec = GateSpec.from_dict({"metric": metric.value, kind.value: value})
    assert spec.tolerance == (kind, value)
    assert spec.to_dict() == {"metric": metric.value, kind.value: value}
    assert GateSpec.from_dict(spec.to_dict()) == spec
    assert json.loads(json.dumps(spec.to_dict())) == spec.to_dict()


def test_tolerances_read_as_sentences() -> None:
    assert P95.describe() == "<= 1.2x stable"
    assert GateSpec(Metric.ERROR_RATE, max_increase=0.01).describe() == "<= +1.0 pp"
    assert GateSpec(Metric.LATENCY_MEAN, max_increase=200).describe() == "<= +200 ms"
    assert QUALITY.describe() == ">= stable - 0.05"


def test_default_gates_cover_errors_tail_latency_and_quality() -> None:
    assert [gate.to_dict() for gate in DEFAULT_GATES] == [
        {"metric": "error_rate", "max_ratio": 1.0},
        {"metric": "latency_p95", "max_ratio": 1.2},
        {"metric": "quality", "max_decrease": 0.05},
    ]
    assert Metric.LATENCY_P95.quantile == 0.95
    assert Metric.TTFT_P50.quantile == 0.5
    assert Metric.LATENCY_MEAN.quantile is None
    assert Metric.TTFT_P95.unit == "ms"


def test_observations_and_segments_refuse_impossible_counts() -> None:
    with pytest.raises(InvalidInput, match="errors <= requests"):
        ArmObservations(requests=3, errors=4)
    with pytest.raises(InvalidInput, match="100 % step"):
        CountSegment(1.0, 0, 0)
    with pytest.raises(InvalidInput, match="negative"):
        CountSegment(0.1, -1, 0)


# --- evaluation ------------------------------------------------------------------------


def test_no_data_is_insufficient_never_harm() -> None:
    results = evaluate_gates(DEFAULT_GATES, Evidence(ArmObservations(), ArmObservations()))
    assert {result.verdict for result in results} == {Verdict.INSUFFICIENT}
    assert decide(results, requirements_met=True) is Decision.HOLD
    assert results[1].summary == (
        "latency_p95: 0 canary / 0 stable values, need 200 each -> insufficient"
    )


def test_a_few_samples_are_insufficient_until_the_minimum() -> None:
    rng = random.Random(1)
    evidence = Evidence(_arm(rng, 60, 0), _arm(rng, 6000, 120), (CountSegment(0.01, 0, 120),))
    assert _verdicts(evaluate_gates(DEFAULT_GATES, evidence)) == {
        Metric.ERROR_RATE: Verdict.INSUFFICIENT,
        Metric.LATENCY_P95: Verdict.INSUFFICIENT,
        Metric.QUALITY: Verdict.INSUFFICIENT,
    }
    relaxed = evaluate_gates((QUALITY,), evidence, min_samples=50)
    assert relaxed[0].verdict is Verdict.OK


def test_alpha_is_split_across_gates() -> None:
    results = evaluate_gates(DEFAULT_GATES, Evidence(ArmObservations(), ArmObservations()))
    assert [result.alpha for result in results] == pytest.approx([0.05 / 3] * 3)
    assert evaluate_gates((ERRORS,), Evidence(ArmObservations(), ArmObservations()))[0].alpha == (
        0.05
    )


@pytest.mark.parametrize(
    ("gates", "alpha", "message"),
    [((), 0.05, "at least one gate"), ((ERRORS,), 0.0, "alpha"), ((ERRORS,), 1.0, "alpha")],
)
def test_evaluation_refuses_bad_settings(
    gates: tuple[GateSpec, ...], alpha: float, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        evaluate_gates(gates, Evidence(ArmObservations(), ArmObservations()), alpha)


def test_a_healthy_canary_advances_once_the_step_is_done() -> None:
    rng = random.Random(2)
    canary, stable = _arm(rng, 1000, 20), _arm(rng, 1000, 20)
    evidence = Evidence(canary, stable, (CountSegment(0.01, 20, 1980),))
    results = evaluate_gates(DEFAULT_GATES, evidence)
    assert {result.verdict for result in results} == {Verdict.OK}
    assert decide(results, requirements_met=True) is Decision.ADVANCE
    assert decide(results, requirements_met=False) is Decision.HOLD


def test_a_canary_that_only_errors_is_rolled_back_and_never_advances() -> None:
    rng = random.Random(3)
    evidence = Evidence(
        ArmObservations(requests=200, errors=200),
        _arm(rng, 200, 4),
        (CountSegment(0.01, 200, 396),),
    )
    results = evaluate_gates(DEFAULT_GATES, evidence)
    assert _verdicts(results)[Metric.ERROR_RATE] is Verdict.HARM
    assert _verdicts(results)[Metric.LATENCY_P95] is Verdict.INSUFFICIENT
    assert decide(results, requirements_met=True) is Decision.ROLLBACK
    # exact test: five failed canary requests out of five are already enough evidence
    early = Evidence(
        ArmObservations(requests=5, errors=5), _arm(rng, 5, 0), (CountSegment(0.01, 5, 10),)
    )
    assert evaluate_gates((ERRORS,), early)[0].verdict is Verdict.HARM


def test_a_canary_with_no_success_never_advances_even_when_stable_fails_too() -> None:
    down = ArmObservations(requests=500, errors=500)
    evidence = Evidence(down, down, (CountSegment(0.5, 500, 500),))
    only_errors = evaluate_gates((ERRORS,), evidence)
    assert only_errors[0].verdict is Verdict.INSUFFICIENT
    assert "no successful canary request" in only_errors[0].summary
    assert decide(only_errors, requirements_met=True) is Decision.HOLD
    increase = evaluate_gates((GateSpec(Metric.ERROR_RATE, max_increase=0.01),), evidence)
    assert decide(increase, requirements_met=True) is Decision.HOLD
    assert decide(evaluate_gates(DEFAULT_GATES, evidence), True) is Decision.HOLD


def test_errors_from_2_to_5_percent_are_harm_with_a_readable_summary() -> None:
    rng = random.Random(4)
    evidence = Evidence(_arm(rng, 600, 30), _arm(rng, 600, 12), (CountSegment(0.01, 30, 1188),))
    result = evaluate_gates(DEFAULT_GATES, evidence)[0]
    assert result.verdict is Verdict.HARM
    assert result.e_value is not None
    assert result.e_value >= 60
    assert result.estimate == pytest.approx(2.5)
    assert result.summary.startswith("error_rate: canary 5.0% vs stable 2.0% (ratio 2.50, e=")
    assert result.summary.endswith(">= 60) -> harm")


def test_a_provider_wide_incident_is_not_the_canary_s_fault() -> None:
    # both arms at 20 % errors during the 10 % step: canary 200 of 1,000, stable 1,800 of 9,000
    rng = random.Random(5)
    evidence = Evidence(
        _arm(rng, 1000, 200),
        _arm(rng, 1000, 200),
        (CountSegment(0.01, 10, 990), CountSegment(0.1, 200, 1800)),
    )
    result = evaluate_gates(DEFAULT_GATES, evidence)[0]
    assert result.verdict is Verdict.OK
    assert result.e_value is not None
    assert result.e_value < 1


def test_p95_latency_half_again_slower_is_harm() -> None:
    rng = random.Random(6)
    evidence = Evidence(_arm(rng, 300, 0, latency=1200.0), _arm(rng, 300, 0))
    result = evaluate_gates(DEFAULT_GATES, evidence)[1]
    assert result.verdict is Verdict.HARM
    assert result.estimate == pytest.approx(1.5, abs=0.05)
    assert result.interval is not None
    assert result.interval[0] > 1.2
    assert re.fullmatch(
        r"latency_p95: canary p95 1,\d{3} ms vs stable p95 8\d\d ms "
        r"\(ratio 1\.[45]\d, CS 1\.\d\d\.\.inf vs <= 1\.2x stable\) -> harm",
        result.summary,
    )


def test_p95_latency_within_tolerance_is_ok() -> None:
    rng = random.Random(7)
    evidence = Evidence(_arm(rng, 2000, 0, latency=880.0), _arm(rng, 2000, 0))
    assert evaluate_gates((P95,), evidence)[0].verdict is Verdict.OK


def test_quality_drop_is_harm_only_once_the_evidence_is_in() -> None:
    rng = random.Random(8)
    big = Evidence(_arm(rng, 2000, 0, quality=0.8), _arm(rng, 2000, 0))
    result = evaluate_gates(DEFAULT_GATES, big)[2]
    assert result.verdict is Verdict.HARM
    assert result.interval is not None
    assert result.interval[1] < -0.05
    small = Evidence(_arm(rng, 150, 0, quality=0.8), _arm(rng, 150, 0))
    assert evaluate_gates(DEFAULT_GATES, small)[2].verdict is not Verdict.HARM


@pytest.mark.parametrize(
    ("gate", "canary_mean", "verdict"),
    [
        (GateSpec(Metric.LATENCY_MEAN, max_ratio=1.2), 1000.0, Verdict.HARM),
        (GateSpec(Metric.LATENCY_MEAN, max_ratio=1.2), 850.0, Verdict.OK),
        (GateSpec(Metric.LATENCY_MEAN, max_increase=100), 1000.0, Verdict.HARM),
        (GateSpec(Metric.LATENCY_MEAN, max_increase=100), 850.0, Verdict.OK),
        (GateSpec(Metric.LATENCY_P50, max_increase=100), 1000.0, Verdict.HARM),
    ],
)
def test_mean_and_median_gates(gate: GateSpec, canary_mean: float, verdict: Verdict) -> None:
    rng = random.Random(9)
    evidence = Evidence(_arm(rng, 1500, 0, latency=canary_mean), _arm(rng, 1500, 0))
    assert evaluate_gates((gate,), evidence)[0].verdict is verdict


def test_cost_and_ttft_gates_read_their_own_fields() -> None:
    cost = Moments.of([0.002 + 0.0001 * (i % 7) for i in range(500)])
    ttft = tuple(200.0 + i % 50 for i in range(500))
    arm = ArmObservations(500, 0, cost_usd=cost, ttft_sample=ttft)
    pricier = ArmObservations(500, 0, cost_usd=Moments(500, 0.004, cost.m2), ttft_sample=ttft)
    gates = (
        GateSpec(Metric.COST_PER_REQUEST, max_ratio=1.5),
        GateSpec(Metric.TTFT_P95, max_ratio=1.2),
    )
    assert _verdicts(evaluate_gates(gates, Evidence(arm, arm))) == {
        Metric.COST_PER_REQUEST: Verdict.OK,
        Metric.TTFT_P95: Verdict.OK,
    }
    assert evaluate_gates(gates, Evidence(pricier, arm))[0].verdict is Verdict.HARM


def test_a_ratio_to_zero_is_never_harm() -> None:
    zeros = ArmObservations(300, 0, latency_ms=Moments.of([0.0] * 300), latency_sample=(0.0,) * 300)
    slow = ArmObservations(300, 0, latency_ms=Moments.of([5.0] * 300), latency_sample=(5.0,) * 300)
    gates = (P95, GateSpec(Metric.LATENCY_MEAN, max_ratio=1.2))
    assert {r.verdict for r in evaluate_gates(gates, Evidence(zeros, zeros))} == {Verdict.OK}
    undefined = evaluate_gates(gates, Evidence(slow, zeros))
    assert {r.verdict for r in undefined} == {Verdict.INSUFFICIENT}
    assert "use max_increase" in undefined[0].summary
    assert evaluate_gates(gates[1:], Evidence(zeros, slow))[0].verdict is Verdict.OK


def test_results_serialise_to_strict_json() -> None:
    rng = random.Random(10)
    evidence = Evidence(_arm(rng, 250, 5), _arm(rng, 250, 5), (CountSegment(0.01, 5, 495),))
    for result in evaluate_gates(DEFAULT_GATES, evidence):
        data = result.to_dict()
        json.dumps(data, allow_nan=False)
        assert data["metric"] == result.metric.value
        assert data["verdict"] == result.verdict.value
        assert data["samples"] == {"canary": result.samples[0], "stable": result.samples[1]}
        assert data["summary"] == result.summary
    p95 = evaluate_gates(DEFAULT_GATES, evidence)[1]
    assert p95.interval is not None
    assert math.isinf(p95.interval[1])  # 250 values cannot bound a p95 from above yet
    assert p95.to_dict()["interval"] == [p95.interval[0], None]


# --- the decision ----------------------------------------------------------------------


def _result(metric: Metric, verdict: Verdict, canary_samples: int = 500) -> GateResult:
    return GateResult(metric, "", verdict, None, None, None, (canary_samples, 500), 0.05, "")


@given(st.lists(st.sampled_from(list(Verdict)), max_size=4), st.booleans())
def test_any_harm_rolls_back_and_only_all_ok_advances(
    verdicts: list[Verdict], requirements_met: bool
) -> None:
    results = [_result(Metric.QUALITY, v) for v in verdicts]
    decision = decide(results, requirements_met)
    if Verdict.HARM in verdicts:
        assert decision is Decision.ROLLBACK
    elif verdicts and requirements_met and set(verdicts) == {Verdict.OK}:
        assert decision is Decision.ADVANCE
    else:
        assert decision is Decision.HOLD


def test_no_gates_and_no_canary_samples_hold() -> None:
    assert decide([], requirements_met=True) is Decision.HOLD
    assert decide([_result(Metric.QUALITY, Verdict.OK, 0)], True) is Decision.HOLD


def test_gates_catch_errors_2_to_5_percent_in_a_seeded_rollout() -> None:
    rng = random.Random(11)
    caught = []
    for _ in range(40):
        canary_errors = stable_errors = 0
        for batch in range(1, 31):  # 50 canary + 4,950 stable requests a look, 1 % share
            canary_errors += sum(rng.random() < 0.05 for _ in range(50))
            stable_errors += sum(rng.random() < 0.02 for _ in range(4950))
            evidence = Evidence(
                ArmObservations(batch * 50, canary_errors),
                ArmObservations(batch * 4950, stable_errors),
                (CountSegment(0.01, canary_errors, stable_errors),),
            )
            if decide(evaluate_gates(DEFAULT_GATES, evidence), False) is Decision.ROLLBACK:
                caught.append(batch * 50)
                break
    assert len(caught) >= 38
    assert sorted(caught)[len(caught) // 2] <= 600


def _rollout_at_the_tolerances(rng: random.Random) -> bool:
    """Every default gate exactly at its tolerance: same error rate, p95 1.2x, quality
    0.05 lower; a 10 % canary against a control slice of its size; a look every 50."""
    canary_errors = stable_errors = 0
    canary_lat: list[float] = []
    stable_lat: list[float] = []
    canary_q, stable_q = Moments(), Moments()
    for look in range(1, 25):
        canary_new = [x for x in (rng.random() for _ in range(50)) if x >= 0.02]
        stable_new = [x for x in (rng.random() for _ in range(50)) if x >= 0.02]
        canary_errors += 50 - len(canary_new)
        stable_errors += 50 - len(stable_new) + sum(rng.random() < 0.02 for _ in range(400))
        canary_lat += [1.2 * 800 * (0.9 + 0.2 * rng.random()) for _ in canary_new]
        stable_lat += [800 * (0.9 + 0.2 * rng.random()) for _ in stable_new]
        canary_q = canary_q.merge(_scores(rng, len(canary_new), 0.85))
        stable_q = stable_q.merge(_scores(rng, len(stable_new), 0.9))
        requests = look * 50
        evidence = Evidence(
            ArmObservations(
                requests,
                requests - len(canary_lat),
                quality=canary_q,
                latency_sample=tuple(canary_lat),
            ),
            ArmObservations(
                requests,
                requests - len(stable_lat),
                quality=stable_q,
                latency_sample=tuple(stable_lat),
            ),
            (CountSegment(0.1, canary_errors, stable_errors),),
        )
        if decide(evaluate_gates(DEFAULT_GATES, evidence), False) is Decision.ROLLBACK:
            return True
    return False


def test_false_rollbacks_stay_under_alpha_with_every_gate_at_its_tolerance() -> None:
    rng = random.Random(12)
    runs = 120
    rollbacks = sum(_rollout_at_the_tolerances(rng) for _ in range(runs))
    assert rollbacks / runs <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / runs)
