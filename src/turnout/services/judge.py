"""A judge model grades answers: the ``judge`` eval scorer and the shadow judge comparator.

The judge is itself a pinned version called through the
:class:`~turnout.ports.ModelCaller` port, so it is versioned, priced and
replaceable like any model turnout serves (a judge that drifts silently would
move every score it gives).

Public API:

* :meth:`Judge.grade_answer` — one answer, optionally against a reference
  answer and a rubric -> :class:`Grade` with a score in [0, 1];
* :meth:`Judge.grade_pair` — two answers to one prompt (primary, candidate)
  -> :class:`PairGrade` with a score for each;
* :meth:`Judge.grade_pair_both_orders` — the same, asked twice with the answers
  swapped and averaged, so the judge's preference for the first answer it reads
  (position bias, Zheng et al., "Judging LLM-as-a-Judge", 2023) cancels out.

Neither raises for a failed judge call or an unreadable reply: the grade's
``error`` says what went wrong and ``score`` is None, so callers decide what a
missing grade means (the eval run scores it 0 with a note).

Replies are parsed robustly, in this order: a JSON object (``{"score": 0.8}``,
or ``score_a``/``score_b`` for pairs), ``SCORE: 0.8`` lines (``SCORE_A:``,
``SCORE_B:``), ``7/10`` or ``7 out of 10``, and finally a reply whose last
number lies in [0, 1] ("The answer is 1."). A bare number above 1 is refused as
ambiguous rather than guessed onto a scale.

The prompt keeps the graded material (question first) in the user message and
the instructions in the system message, and never writes two numbers joined by
an operator, so the built-in ``sim`` model — which answers the first arithmetic
expression of the user message — acts as a deterministic judge in tests.
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass

import orjson

from turnout.domain.completions import Completion, Message
from turnout.ports import ModelCaller

__all__ = ["Grade", "Judge", "PairGrade", "parse_grade", "parse_pair_grade"]

_SYSTEM = (
    "You are an impartial grader. Read the question, the reference answer if one is "
    "given, and the answer to grade. Judge correctness first, then completeness and "
    "clarity. Reply with one line: SCORE: followed by a number from 0 to 1, where 1 "
    "is fully correct and 0 is wrong or unhelpful."
)
_PAIR_SYSTEM = (
    "You are an impartial grader comparing two answers to the same question. Grade "
    "each answer on its own merits (correctness first, then completeness and clarity); "
    "the order in which they appear says nothing about their quality. Reply with two "
    "lines: SCORE_A: followed by a number from 0 to 1, and SCORE_B: likewise."
)
_NUMBER = r"([-+]?(?:\d+(?:\.\d*)?|\.\d+))"
_LINE = re.compile(rf"\bscore\s*[:=]\s*{_NUMBER}", re.IGNORECASE)
_LINE_A = re.compile(rf"\bscore[_ ]?a\s*[:=]\s*{_NUMBER}", re.IGNORECASE)
_LINE_B = re.compile(rf"\bscore[_ ]?b\s*[:=]\s*{_NUMBER}", re.IGNORECASE)
_SCALED = re.compile(rf"{_NUMBER}\s*(?:/|out\s+of)\s*(10|100|5)\b", re.IGNORECASE)
_ANY = re.compile(r"(?<![\w.])(?:\d+(?:\.\d+)?|\.\d+)(?![\w])")
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Grade:
    """A judge's grade of one answer: ``score`` in [0, 1], or None with ``error``."""

    score: float | None
    reply: str
    error: str | None
    completion: Completion | None = None


@dataclass(frozen=True, slots=True)
class PairGrade:
    """A judge's grades of two answers (A = primary, B = candidate)."""

    score_a: float | None
    score_b: float | None
    reply: str
    error: str | None
    completion: Completion | None = None

    @property
    def preference(self) -> float | None:
        """B's edge over A in [-1, 1] (positive: the candidate is better)."""
        if self.score_a is None or self.score_b is None:
            return None
        return self.score_b - self.score_a


def _unit(value: float) -> float | None:
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else None


def _json_scores(reply: str, keys: tuple[str, ...]) -> tuple[float | None, ...] | None:
    found = _JSON_OBJECT.search(reply)
    if found is None:
        return None
    try:
        data = orjson.loads(found.group(0))
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    values: list[float | None] = []
    for key in keys:
        value = data.get(key)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        values.append(_scale(float(value)) if ok else None)  # type: ignore[arg-type]
    return tuple(values)


def _scale(value: float) -> float | None:
    """A grade in [0, 1]; 1..10 is read as a ten-point grade only from JSON and SCORE lines."""
    if 1.0 < value <= 10.0:
        value /= 10.0
    elif 10.0 < value <= 100.0:
        value /= 100.0
    return _unit(value)


def parse_grade(reply: str) -> float | None:
    """The grade in a judge's reply, in [0, 1], or None if it holds none (see module doc)."""
    from_json = _json_scores(reply, ("score",))
    if from_json is not None and from_json[0] is not None:
        return from_json[0]
    line = _LINE.search(reply)
    if line:
        return _scale(float(line.group(1)))
    scaled = _SCALED.search(reply)
    if scaled:
        return _unit(float(scaled.group(1)) / float(scaled.group(2)))
    numbers = _ANY.findall(reply)
    return _unit(float(numbers[-1])) if numbers else None


def parse_pair_grade(reply: str) -> tuple[float | None, float | None]:
    """The two grades of a pair reply (``SCORE_A``/``SCORE_B`` or JSON ``score_a``/``score_b``)."""
    from_json = _json_scores(reply, ("score_a", "score_b"))
    if from_json is not None and None not in from_json:
        return from_json[0], from_json[1]
    a, b = _LINE_A.search(reply), _LINE_B.search(reply)
    return (
        _scale(float(a.group(1))) if a else None,
        _scale(float(b.group(1))) if b else None,
    )


def _section(title: str, text: str) -> str:
    return f"{title}:\n{text.strip() or '(empty)'}"


class Judge:
    """Grades answers with a judge version through a :class:`~turnout.ports.ModelCaller`.

    Stateless apart from the caller, so one instance serves concurrent grading.
    ``params`` lie over the judge version's defaults on every call (temperature
    0 by default: a grader should not be creative).
    """

    def __init__(
        self,
        caller: ModelCaller,
        *,
        params: dict[str, object] | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self._caller = caller
        self._params = {"temperature": 0} if params is None else params
        self._timeout_s = timeout_s

    @staticmethod
    def answer_messages(
        prompt: str, answer: str, reference: str | None = None, rubric: str | None = None
    ) -> list[Message]:
        """The chat messages asking for a grade of ``answer`` (question first)."""
        return _grading(
            _SYSTEM,
            prompt,
            reference,
            rubric,
            [("Answer to grade", answer)],
            "Reply with SCORE: and a number from 0 to 1.",
        )

    @staticmethod
    def pair_messages(
        prompt: str,
        answer_a: str,
        answer_b: str,
        reference: str | None = None,
        rubric: str | None = None,
    ) -> list[Message]:
        """The chat messages asking for grades of two answers to one prompt."""
        return _grading(
            _PAIR_SYSTEM,
            prompt,
            reference,
            rubric,
            [("Answer A", answer_a), ("Answer B", answer_b)],
            "Reply with SCORE_A: and SCORE_B:, each a number from 0 to 1.",
        )

    async def _ask(self, judge_version: str, messages: list[Message]) -> Completion:
        return await self._caller.call(
            judge_version, messages, self._params, timeout_s=self._timeout_s
        )

    async def grade_answer(
        self,
        judge_version: str,
        prompt: str,
        answer: str,
        *,
        reference: str | None = None,
        rubric: str | None = None,
    ) -> Grade:
        """Ask ``judge_version`` to grade ``answer`` to ``prompt``; never raises for the
        judge's failures (an unknown judge version raises NotFound)."""
        completion = await self._ask(
            judge_version, self.answer_messages(prompt, answer, reference, rubric)
        )
        if completion.error is not None:
            return Grade(None, "", f"judge call failed: {completion.error}", completion)
        score = parse_grade(completion.text)
        if score is None:
            reply = " ".join(completion.text.split())[:120]
            return Grade(
                None, completion.text, f"judge reply holds no grade: {reply!r}", completion
            )
        return Grade(score, completion.text, None, completion)

    async def grade_pair(
        self,
        judge_version: str,
        prompt: str,
        answer_a: str,
        answer_b: str,
        *,
        reference: str | None = None,
        rubric: str | None = None,
    ) -> PairGrade:
        """Ask ``judge_version`` to grade two answers to ``prompt`` side by side.

        Judges favour the first answer they read; :meth:`grade_pair_both_orders`
        cancels that bias at twice the cost (this method asks once).
        """
        messages = self.pair_messages(prompt, answer_a, answer_b, reference, rubric)
        completion = await self._ask(judge_version, messages)
        if completion.error is not None:
            return PairGrade(None, None, "", f"judge call failed: {completion.error}", completion)
        score_a, score_b = parse_pair_grade(completion.text)
        if score_a is None or score_b is None:
            reply = " ".join(completion.text.split())[:120]
            error = f"judge reply holds no pair of grades: {reply!r}"
            return PairGrade(score_a, score_b, completion.text, error, completion)
        return PairGrade(score_a, score_b, completion.text, None, completion)

    async def grade_pair_both_orders(
        self,
        judge_version: str,
        prompt: str,
        answer_a: str,
        answer_b: str,
        *,
        reference: str | None = None,
        rubric: str | None = None,
    ) -> PairGrade:
        """:meth:`grade_pair` in both orders (two calls, concurrently), grades averaged.

        Each answer's grade is the mean of its grade when read first and when read
        second. A grade needs both calls: if either fails or is unreadable the
        result carries that error and no scores, rather than a one-sided grade that
        would bring the bias back.
        """
        forward, backward = await asyncio.gather(
            self.grade_pair(
                judge_version, prompt, answer_a, answer_b, reference=reference, rubric=rubric
            ),
            self.grade_pair(
                judge_version, prompt, answer_b, answer_a, reference=reference, rubric=rubric
            ),
        )
        reply = f"{forward.reply}\n---\n{backward.reply}"
        for graded, order in ((forward, "A first"), (backward, "B first")):
            if graded.error is not None:
                return PairGrade(None, None, reply, f"{order}: {graded.error}", graded.completion)
        a_first, b_second = forward.score_a, forward.score_b
        b_first, a_second = backward.score_a, backward.score_b
        if a_first is None or b_second is None or b_first is None or a_second is None:
            return PairGrade(None, None, reply, "judge gave no pair of grades", None)
        score_a = (a_first + a_second) / 2
        score_b = (b_first + b_second) / 2
        return PairGrade(score_a, score_b, reply, None, forward.completion)


def _grading(
    system: str,
    prompt: str,
    reference: str | None,
    rubric: str | None,
    answers: list[tuple[str, str]],
    instruction: str,
) -> list[Message]:
    """Question, optional reference and rubric, the answers, then how to reply."""
    parts = [_section("Question", prompt)]
    if reference is not None:
        parts.append(_section("Reference answer", reference))
    if rubric:
        parts.append(_section("Grading rubric", rubric))
    parts += [_section(title, text) for title, text in answers]
    parts.append(instruction)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": "\n\n".join(parts)},
    ]
