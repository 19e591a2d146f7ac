"""Text scorers: ``exact``, ``contains`` and ``regex``.

Deliberately literal: whitespace at the ends is ignored, case only with
``ignore_case: true``. Anything looser belongs to ``similarity`` or ``judge``,
so a suite says which kind of agreement it measures.
"""

from __future__ import annotations

import re

from turnout.domain.eval_scorers.base import (
    ScorerOptions,
    ScoreTarget,
    option_bool,
    option_text,
    option_texts,
    reference_text,
)
from turnout.errors import InvalidInput

__all__ = ["Contains", "Exact", "Regex"]


def _fold(text: str, ignore_case: bool) -> str:
    return text.casefold() if ignore_case else text


class Exact:
    """1 if the answer equals the expected text (ends trimmed), else 0."""

    name = "exact"
    options = frozenset({"ignore_case", "value"})

    def check(self, options: ScorerOptions, target: ScoreTarget) -> None:
        option_bool(options, "ignore_case", False)
        reference_text(options, target, self.name)

    def score(self, answer: str, target: ScoreTarget, options: ScorerOptions) -> float:
        ignore_case = option_bool(options, "ignore_case", False)
        expected = _fold(reference_text(options, target, self.name).strip(), ignore_case)
        return 1.0 if _fold(answer.strip(), ignore_case) == expected else 0.0


class Contains:
    """The share of the wanted strings (``value``, a string or a list) found in the answer."""

    name = "contains"
    options = frozenset({"ignore_case", "value"})

    def _wanted(self, options: ScorerOptions, target: ScoreTarget) -> tuple[str, ...]:
        wanted = option_texts(options, "value")
        if wanted is None:
            wanted = (reference_text(options, target, self.name),)
        return wanted

    def check(self, options: ScorerOptions, target: ScoreTarget) -> None:
        option_bool(options, "ignore_case", False)
        if any(not text for text in self._wanted(options, target)):
            raise InvalidInput("scorer 'contains' needs non-empty strings to look for")

    def score(self, answer: str, target: ScoreTarget, options: ScorerOptions) -> float:
        ignore_case = option_bool(options, "ignore_case", False)
        wanted = self._wanted(options, target)
        haystack = _fold(answer, ignore_case)
        found = sum(1 for text in wanted if _fold(text, ignore_case) in haystack)
        return found / len(wanted)


class Regex:
    """1 if ``pattern`` (default: the expected text) matches anywhere in the answer."""

    name = "regex"
    options = frozenset({"ignore_case", "pattern"})

    def _compile(self, options: ScorerOptions, target: ScoreTarget) -> re.Pattern[str]:
        pattern = option_text(options, "pattern") or target.expected
        if not pattern:
            raise InvalidInput("scorer 'regex' needs a 'pattern' option (or the case's expected)")
        flags = re.IGNORECASE if option_bool(options, "ignore_case", False) else 0
        try:
            return re.compile(pattern, flags)
        except re.error as exc:
            raise InvalidInput(f"scorer 'regex': invalid pattern {pattern!r}: {exc}") from None

    def check(self, options: ScorerOptions, target: ScoreTarget) -> None:
        self._compile(options, target)

    def score(self, answer: str, target: ScoreTarget, options: ScorerOptions) -> float:
        return 1.0 if self._compile(options, target).search(answer) else 0.0
