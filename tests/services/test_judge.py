"""The judge: prompts it builds, grades it parses, failures it reports without raising."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import pytest

from turnout.domain.arithmetic import evaluate_arithmetic
from turnout.domain.completions import Completion, Message
from turnout.services.judge import Judge, parse_grade, parse_pair_grade


@pytest.mark.parametrize(
    ("reply", "grade"),
    [
        ("SCORE: 0.8", 0.8),
        ("Reasoning... the answer is right.\nScore = 1", 1.0),
        ("score: 7", 0.7),
        ('{"score": 0.25, "why": "partly"}', 0.25),
        ('Here you go: {"score": 9}', 0.9),
        ("I'd give it 7/10.", 0.7),
        ("4 out of 5", 0.8),
        ("The answer is 1.", 1.0),
        ("0.5", 0.5),
        ("The answer is 42.", None),
        ("SCORE: -3", None),
        ("no idea", None),
        ("", None),
    ],
)
def test_grades_are_parsed_robustly(reply: str, grade: float | None) -> None:
    parsed = parse_grade(reply)
    assert parsed == (pytest.approx(grade) if grade is not None else None)


@pytest.mark.parametrize(
    ("reply", "grades"),
    [
        ("SCORE_A: 0.4\nSCORE_B: 0.9", (0.4, 0.9)),
        ('{"score_a": 1, "score_b": 0}', (1.0, 0.0)),
        ("score a = 8\nscore b = 6", (0.8, 0.6)),
        ("SCORE_A: 0.4", (0.4, None)),
        ("both fine", (None, None)),
    ],
)
def test_pair_grades_are_parsed(reply: str, grades: tuple[float | None, float | None]) -> None:
    assert parse_pair_grade(reply) == grades


class ScriptedCaller:
    def __init__(self, reply: str = "SCORE: 0.9", error: str | None = None) -> None:
        self.reply = reply
        self.error = error
        self.seen: list[tuple[str, list[Message], Mapping[str, object] | None]] = []

    async def call(
        self,
        version: str,
        messages: Sequence[Message],
        params: Mapping[str, object] | None = None,
        *,
        timeout_s: float = 60.0,
    ) -> Completion:
        self.seen.append((version, list(messages), params))
        if self.error:
            return Completion(version, "", 1.0, error=self.error)
        return Completion(version, self.reply, 1.0)

    async def aclose(self) -> None:
        pass


def test_grade_answer_builds_the_prompt_and_parses_the_reply() -> None:
    caller = ScriptedCaller("SCORE: 0.9")
    grade = asyncio.run(
        Judge(caller).grade_answer(
            "sim/judge-001", "Capital of France?", "Paris", reference="Paris", rubric="exact city"
        )
    )
    assert (grade.score, grade.error) == (0.9, None)
    version, messages, params = caller.seen[0]
    assert version == "sim/judge-001"
    assert params == {"temperature": 0}
    assert messages[0]["role"] == "system"
    user = str(messages[1]["content"])
    assert user.index("Question:") < user.index("Reference answer:") < user.index("Answer to grade")
    assert "exact city" in user


def test_the_grading_prompt_adds_no_arithmetic_of_its_own() -> None:
    """The sim (as a judge in tests) answers the first arithmetic of the user message:
    the judge's own wording must not contain any."""
    for messages in (
        Judge.answer_messages("Tell me a joke", "ha", "ha", "be kind"),
        Judge.pair_messages("Tell me a joke", "ha", "ho", "ha", "be kind"),
    ):
        assert evaluate_arithmetic(str(messages[-1]["content"])) is None


def test_failures_are_values_not_exceptions() -> None:
    failed = asyncio.run(
        Judge(ScriptedCaller(error="provider_error: 500")).grade_answer("sim/j-001", "q", "a")
    )
    assert failed.score is None
    assert failed.error == "judge call failed: provider_error: 500"
    unreadable = asyncio.run(
        Judge(ScriptedCaller("Looks good!")).grade_answer("sim/j-001", "q", "a")
    )
    assert unreadable.score is None
    assert "holds no grade" in (unreadable.error or "")


def test_grade_pair() -> None:
    caller = ScriptedCaller("SCORE_A: 0.5\nSCORE_B: 0.75")
    pair = asyncio.run(Judge(caller).grade_pair("sim/j-001", "q", "first", "second"))
    assert (pair.score_a, pair.score_b, pair.error) == (0.5, 0.75, None)
    assert pair.preference == pytest.approx(0.25)
    user = str(caller.seen[0][1][1]["content"])
    assert user.index("Answer A:\nfirst") < user.index("Answer B:\nsecond")
    half = asyncio.run(Judge(ScriptedCaller("SCORE_A: 1")).grade_pair("sim/j-001", "q", "a", "b"))
    assert half.preference is None
    assert "no pair of grades" in (half.error or "")
    down = asyncio.run(
        Judge(ScriptedCaller(error="timeout")).grade_pair("sim/j-001", "q", "a", "b")
    )
    assert (down.score_a, down.score_b) == (None, None)
    assert down.error == "judge call failed: timeout"


def test_both_orders_cancel_a_judge_that_prefers_whatever_it_reads_first() -> None:
    caller = ScriptedCaller("SCORE_A: 1\nSCORE_B: 0.5")  # always likes the first answer better
    once = asyncio.run(Judge(caller).grade_pair("sim/j-001", "q", "primary", "candidate"))
    assert once.preference == pytest.approx(-0.5)  # the bias, read as a real difference
    caller.seen.clear()
    both = asyncio.run(
        Judge(caller).grade_pair_both_orders("sim/j-001", "q", "primary", "candidate")
    )
    assert (both.score_a, both.score_b, both.error) == (0.75, 0.75, None)
    assert both.preference == 0.0
    first_read = sorted(
        str(messages[1]["content"]).split("Answer A:\n")[1].split("\n")[0]
        for _, messages, _ in caller.seen
    )
    assert first_read == ["candidate", "primary"]  # one call in each order


def test_both_orders_needs_a_grade_from_each_order() -> None:
    down = asyncio.run(
        Judge(ScriptedCaller(error="timeout")).grade_pair_both_orders("sim/j-001", "q", "a", "b")
    )
    assert (down.score_a, down.score_b) == (None, None)
    assert down.error == "A first: judge call failed: timeout"
    half = asyncio.run(
        Judge(ScriptedCaller("SCORE_A: 1")).grade_pair_both_orders("sim/j-001", "q", "a", "b")
    )
    assert (half.score_a, half.score_b) == (None, None)
    assert "no pair of grades" in (half.error or "")
