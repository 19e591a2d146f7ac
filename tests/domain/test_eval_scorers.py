"""Eval scorers on fixed answers: each returns the score its rule implies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from turnout.domain.eval_scorers import SCORERS, check_scorer, is_model_graded, score
from turnout.domain.eval_scorers.numeric import last_number
from turnout.domain.eval_scorers.similarity import text_similarity
from turnout.errors import InvalidInput


@dataclass(frozen=True)
class Target:
    expected: str | None = None
    schema: Mapping[str, object] | None = None


SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
}


@pytest.mark.parametrize(
    ("name", "answer", "target", "options", "expected"),
    [
        ("exact", "  Paris \n", Target("Paris"), {}, 1.0),
        ("exact", "paris", Target("Paris"), {}, 0.0),
        ("exact", "paris", Target("Paris"), {"ignore_case": True}, 1.0),
        ("exact", "Paris.", Target("Paris"), {}, 0.0),
        ("exact", "yes", Target(None), {"value": "yes"}, 1.0),
        ("contains", "The capital is Paris.", Target("Paris"), {}, 1.0),
        ("contains", "the capital is paris", Target("Paris"), {}, 0.0),
        ("contains", "the capital is paris", Target("Paris"), {"ignore_case": True}, 1.0),
        ("contains", "red and blue", Target(None), {"value": ["red", "green"]}, 0.5),
        ("contains", "red, green, blue", Target(None), {"value": ["red", "green"]}, 1.0),
        ("regex", "order #12345 shipped", Target(None), {"pattern": r"#\d{5}\b"}, 1.0),
        ("regex", "order #1234 shipped", Target(None), {"pattern": r"#\d{5}\b"}, 0.0),
        ("regex", "ANSWER: B", Target(None), {"pattern": "answer: b", "ignore_case": True}, 1.0),
        ("json_schema", '{"name": "Ada", "age": 36}', Target(schema=SCHEMA), {}, 1.0),
        ("json_schema", '```json\n{"name": "Ada", "age": 36}\n```', Target(schema=SCHEMA), {}, 1.0),
        ("json_schema", '{"name": "Ada", "age": -1}', Target(schema=SCHEMA), {}, 0.0),
        ("json_schema", '{"name": "Ada"}', Target(schema=SCHEMA), {}, 0.0),
        ("json_schema", "Sure! {'name': 'Ada'}", Target(schema=SCHEMA), {}, 0.0),
        ("json_schema", "[1, 2]", Target(), {"schema": {"type": "array"}}, 1.0),
        ("numeric", "The answer is 42.", Target("42"), {}, 1.0),
        ("numeric", "The answer is 43.", Target("42"), {}, 0.0),
        ("numeric", "17 + 25 = 42", Target("42"), {}, 1.0),
        ("numeric", "about 3.14159", Target("3.14"), {"tolerance": 0.01}, 1.0),
        ("numeric", "about 3.16", Target("3.14"), {"tolerance": 0.01}, 0.0),
        ("numeric", "total: 1,010", Target("1000"), {"tolerance": 0.01, "relative": True}, 1.0),
        ("numeric", "total: 1,011", Target("1000"), {"tolerance": 0.01, "relative": True}, 0.0),
        ("numeric", "it is -12", Target("-12"), {}, 1.0),
        ("numeric", "no digits here", Target("1"), {}, 0.0),
        ("numeric", "2.5e3 units", Target(None), {"value": 2500}, 1.0),
        ("similarity", "the capital is paris", Target("Paris is the capital."), {}, 1.0),
        ("similarity", "London", Target("Paris"), {"threshold": 0.8}, 0.0),
        ("similarity", "Paris, France", Target("Paris"), {"threshold": 0.8}, 1.0),
    ],
)
def test_scores_on_fixed_answers(
    name: str, answer: str, target: Target, options: dict[str, object], expected: float
) -> None:
    check_scorer(name, options, target)
    assert score(name, answer, target, options) == pytest.approx(expected)


def test_similarity_without_threshold_is_the_ratio() -> None:
    value = score("similarity", "the cat sat", Target("the cat sat on the mat"), {})
    assert value == pytest.approx(text_similarity("the cat sat", "the cat sat on the mat"))
    assert value == 1.0  # token_set: every token of the shorter text is in the longer
    partial = score("similarity", "a dog ran", Target("the cat sat"), {})
    assert 0.0 < partial < 0.5


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("The answer is 42.", 42.0),
        ("from 3 to 1,234.5.", 1234.5),
        ("minus \u22127", -7.0),
        ("v1.2.3 has no number at the end", None),
        ("6 * 7 = 42, I think", 42.0),
        ("nothing", None),
    ],
)
def test_last_number(text: str, number: float | None) -> None:
    assert last_number(text) == number


@pytest.mark.parametrize(
    ("name", "options", "target", "message"),
    [
        ("exactly", {}, Target("x"), "unknown scorer 'exactly'"),
        ("exact", {}, Target(None), "needs the case's 'expected'"),
        ("exact", {"ignore_case": "yes"}, Target("x"), "true or false"),
        ("exact", {"colour": 1}, Target("x"), "unknown option(s) colour"),
        ("regex", {"pattern": "("}, Target(), "invalid pattern"),
        ("regex", {}, Target(), "needs a 'pattern'"),
        ("json_schema", {}, Target(), "needs the case's 'schema'"),
        ("json_schema", {"schema": {"type": "nonsense"}}, Target(), "invalid JSON schema"),
        ("numeric", {}, Target("forty-two"), "is not a number"),
        ("numeric", {"tolerance": -1}, Target("1"), "between 0"),
        ("similarity", {"threshold": 2}, Target("x"), "between 0 and 1"),
        ("contains", {"value": []}, Target(), "a string or a list of strings"),
        ("judge", {"version": "no-slash"}, Target(), "provider/model_id"),
    ],
)
def test_bad_scorer_options_are_refused(
    name: str, options: dict[str, object], target: Target, message: str
) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        check_scorer(name, options, target)


def test_every_scorer_is_registered_under_its_name() -> None:
    assert set(SCORERS) == {
        "contains",
        "exact",
        "json_schema",
        "judge",
        "numeric",
        "regex",
        "similarity",
    }
    assert all(scorer.name == name for name, scorer in SCORERS.items())
    assert is_model_graded("judge")
    assert not is_model_graded("exact")
