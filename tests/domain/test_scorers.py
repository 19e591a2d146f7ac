"""Online scorers on fixed answers."""

from __future__ import annotations

import pytest

from turnout.domain.arithmetic import last_integer
from turnout.domain.rollouts import RolloutPlan
from turnout.domain.scorers import SCORERS, score_answer, validate_scorers
from turnout.errors import InvalidInput


@pytest.mark.parametrize(
    ("name", "prompt", "answer", "score"),
    [
        ("arithmetic", "What is 17 + 25?", "The answer is 42.", 1.0),
        ("arithmetic", "What is 17 + 25?", "The answer is 43.", 0.0),
        ("arithmetic", "What is 6 * 7?", "I think 6 * 7 = 42", 1.0),
        ("arithmetic", "Tell me a joke", "Why did...", None),
        ("json_valid", "", '{"a": [1, 2]}', 1.0),
        ("json_valid", "", "{'a': 1}", 0.0),
        ("no_refusal", "", "Sure, here it is.", 1.0),
        ("no_refusal", "", "I'm sorry, but I can't help with that.", 0.0),
        ("non_empty", "", "  \n", 0.0),
        ("non_empty", "", "ok", 1.0),
    ],
)
def test_scores_on_fixed_answers(name: str, prompt: str, answer: str, score: float | None) -> None:
    assert SCORERS[name](prompt, answer) == score


def test_only_applicable_scores_are_kept() -> None:
    scores = score_answer(("arithmetic", "non_empty"), "Tell me a joke", "ha")
    assert scores == (("non_empty", 1.0),)


def test_last_integer_reads_thousands_separators() -> None:
    assert last_integer("it is 1,234") == 1234
    assert last_integer("no digits") is None


def test_unknown_or_repeated_scorers_are_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown scorer"):
        validate_scorers(["vibes"])
    with pytest.raises(InvalidInput, match="twice"):
        validate_scorers(["json_valid", "json_valid"])
    with pytest.raises(InvalidInput, match="unknown scorer"):
        RolloutPlan.from_dict({"scorers": ["vibes"]})
    plan = RolloutPlan.from_dict({"scorers": ["arithmetic"]})
    assert RolloutPlan.from_dict(plan.to_dict()).scorers == ("arithmetic",)
