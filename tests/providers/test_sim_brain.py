"""The sim's pure decisions: parsing, determinism, and the quality/error knobs in the long run."""

from __future__ import annotations

import math
import random
from statistics import NormalDist

import pytest

from turnout.errors import InvalidInput
from turnout.providers.sim_brain import (
    SimBrain,
    SimParams,
    count_tokens,
    evaluate_arithmetic,
    split_chunks,
)

Z_999 = NormalDist().inv_cdf(1 - 0.001 / 2)  # two-sided 99.9 %


def binomial_bounds(n: int, p: float) -> tuple[float, float]:
    half = Z_999 * math.sqrt(n * p * (1 - p))
    return n * p - half, n * p + half


def arithmetic_prompts(n: int, seed: int = 11) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    prompts = []
    for _ in range(n):
        a, b = rng.randint(0, 99), rng.randint(0, 99)
        op = rng.choice("+-*")
        value = a + b if op == "+" else a - b if op == "-" else a * b
        prompts.append((f"What is {a} {op} {b}?", value))
    return prompts


@pytest.mark.parametrize(
    ("prompt", "value"),
    [
        ("What is 17 + 25?", 42),
        ("17+25", 42),
        ("What's 3 times 4", 12),
        ("what is 9 minus 11?", -2),
        ("6 multiplied by 7", 42),
        ("3 x 4", 12),
        ("3\u00d74", 12),
        ("17-25", -8),
        ("5 - -3", 8),
        ("2 + 3 * 4", 14),
        ("Compute 10 * 10 - 1 please", 99),
        ("On 2025-01-01, what is 2 plus 2?", 4),
    ],
)
def test_arithmetic_is_parsed(prompt: str, value: int) -> None:
    assert evaluate_arithmetic(prompt) == value


@pytest.mark.parametrize(
    "prompt", ["hello", "What is 42?", "what is 1.5 + 2?", "released 2025-01-01", "v1-2", ""]
)
def test_non_arithmetic_is_not_parsed(prompt: str) -> None:
    assert evaluate_arithmetic(prompt) is None


def test_same_seed_same_decisions_and_other_seed_differs() -> None:
    params = SimParams.parse({"latency_ms": 50, "error_rate": 0.3, "quality": 0.5})
    prompts = arithmetic_prompts(200)

    def run(seed: int) -> list[tuple[str, str | None, float]]:
        brain = SimBrain(seed)
        return [
            (o.text, o.error, o.latency_ms)
            for i, (p, _) in enumerate(prompts)
            for o in [brain.decide("chat-1", params, p, i)]
        ]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_seed_param_overrides_the_provider_seed() -> None:
    params = SimParams.parse({"seed": 99, "quality": 0.5})
    a = SimBrain(1).decide("m", params, "What is 2 + 2?", 3)
    b = SimBrain(2).decide("m", params, "What is 2 + 2?", 3)
    assert a == b


def test_counter_varies_the_outcome_for_a_repeated_prompt() -> None:
    brain, params = SimBrain(0), SimParams.parse({"quality": 0.5})
    answers = {brain.decide("m", params, "What is 2 + 2?", i).text for i in range(50)}
    assert "The answer is 4." in answers
    assert len(answers) > 1


def test_models_draw_independently() -> None:
    brain, params = SimBrain(0), SimParams.parse({"quality": 0.5})
    a = [brain.decide("a", params, "What is 2 + 2?", i).correct for i in range(100)]
    b = [brain.decide("b", params, "What is 2 + 2?", i).correct for i in range(100)]
    assert a != b


def test_quality_one_is_always_right_and_zero_never() -> None:
    brain = SimBrain(3)
    perfect, hopeless = SimParams.parse({"quality": 1.0}), SimParams.parse({"quality": 0.0})
    for i, (prompt, value) in enumerate(arithmetic_prompts(500)):
        good = brain.decide("m", perfect, prompt, i)
        bad = brain.decide("m", hopeless, prompt, i)
        assert good.text == f"The answer is {value}."
        assert good.correct is True
        assert good.expected == value
        assert bad.correct is False
        assert bad.text != good.text
        wrong = int(bad.text.removeprefix("The answer is ").rstrip("."))
        assert 0 < abs(wrong - value) <= 10  # plausible, not random noise


def test_quality_point_eight_within_binomial_interval() -> None:
    brain, params, n = SimBrain(5), SimParams.parse({"quality": 0.8}), 2000
    correct = sum(
        bool(brain.decide("m", params, p, i).correct)
        for i, (p, _) in enumerate(arithmetic_prompts(n))
    )
    low, high = binomial_bounds(n, 0.8)
    assert low <= correct <= high


def test_error_rate_within_binomial_interval() -> None:
    brain, params, n = SimBrain(6), SimParams.parse({"error_rate": 0.1}), 2000
    outcomes = [brain.decide("m", params, "hi", i) for i in range(n)]
    errors = sum(o.error is not None for o in outcomes)
    low, high = binomial_bounds(n, 0.1)
    assert low <= errors <= high
    assert all(o.text == "" for o in outcomes if o.error is not None)


def test_error_rate_zero_and_one() -> None:
    brain = SimBrain(0)
    never, always = SimParams.parse({}), SimParams.parse({"error_rate": 1})
    assert all(brain.decide("m", never, "x", i).error is None for i in range(200))
    assert all(brain.decide("m", always, "x", i).error for i in range(200))


def test_canned_answer_is_deterministic_and_names_the_model() -> None:
    brain, params = SimBrain(0), SimParams()
    first = brain.decide("chat-2025-01-01", params, "Tell me about trains", 0)
    again = brain.decide("chat-2025-01-01", params, "Tell me about trains", 1)
    assert first.text == again.text
    assert "chat-2025-01-01" in first.text
    assert first.correct is None
    assert first.expected is None


def test_latency_jitter_stays_within_bounds_and_ttft_precedes_the_end() -> None:
    brain = SimBrain(0)
    params = SimParams.parse({"latency_ms": 100, "ttft_ms": 30, "jitter": 0.2})
    for i in range(300):
        outcome = brain.decide("m", params, "x", i)
        assert 80 <= outcome.latency_ms <= 120
        assert 24 <= outcome.ttft_ms <= 36
        assert outcome.ttft_ms <= outcome.latency_ms
    assert brain.decide("m", SimParams(), "x", 0).latency_ms == 0


def test_default_ttft_is_a_quarter_of_the_latency() -> None:
    outcome = SimBrain(0).decide("m", SimParams.parse({"latency_ms": 100, "jitter": 0}), "x", 0)
    assert outcome.latency_ms == 100
    assert outcome.ttft_ms == 25


def test_max_tokens_truncates_with_length() -> None:
    params = SimParams.parse({"max_tokens": 3})
    outcome = SimBrain(0).decide("m", params, "Tell me about trains", 0)
    assert outcome.finish_reason == "length"
    assert count_tokens(outcome.text) == 3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"quality": 1.5}, "quality=1.5 must be between 0 and 1"),
        ({"quality": -0.1}, "between 0 and 1"),
        ({"error_rate": 2}, "error_rate=2 must be between 0 and 1"),
        ({"latency_ms": -5}, "latency_ms=-5 must not be negative"),
        ({"ttft_ms": -1}, "ttft_ms=-1 must not be negative"),
        ({"latency_ms": "slow"}, "must be a number"),
        ({"quality": True}, "must be a number"),
        ({"quality": float("nan")}, "must be a number"),
        ({"seed": 1.5}, "seed=1.5 must be an integer"),
        ({"max_tokens": 0}, "max_tokens=0 must be an integer >= 1"),
    ],
)
def test_bad_params_are_refused_clearly(params: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        SimParams.parse(params)  # type: ignore[arg-type]


def test_unrelated_params_are_ignored() -> None:
    assert SimParams.parse({"temperature": 0.2, "user": "u1", "quality": None}) == SimParams()


def test_tokens_and_chunks() -> None:
    assert count_tokens("The answer is 42.") == 5
    assert count_tokens("") == 0
    assert split_chunks("The answer is 42.") == ["The", " answer", " is", " 42."]
    assert "".join(split_chunks("  spaced   out \n")) == "  spaced   out \n"
    assert split_chunks("   ") == ["   "]
    assert split_chunks("") == [""]


def test_wrong_answers_stay_near_and_non_negative_for_small_sums() -> None:
    brain, hopeless = SimBrain(0), SimParams.parse({"quality": 0.0})
    for i in range(300):
        text = brain.decide("m", hopeless, "What is 1 + 0?", i).text
        wrong = int(text.removeprefix("The answer is ").rstrip("."))
        assert wrong != 1
        assert 0 <= wrong <= 3
