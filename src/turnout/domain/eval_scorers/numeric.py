"""``numeric``: the last number in the answer, compared with a tolerance.

Models state a result at the end ("... so the total is 1,234.5."), so the last
number written is the one compared. ``tolerance`` is absolute by default;
``relative: true`` makes it a fraction of the expected value (0.01 = 1 %).
"""

from __future__ import annotations

import math
import re

from turnout.domain.eval_scorers.base import (
    ScorerOptions,
    ScoreTarget,
    option_bool,
    option_number,
)
from turnout.errors import InvalidInput

__all__ = ["Numeric", "last_number", "parse_number"]

_NUMBER = re.compile(
    r"(?<![\w.])[-\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])"
)


def parse_number(text: str) -> float | None:
    """``text`` as a number (thousands separators and a Unicode minus allowed), else None."""
    cleaned = text.strip().replace(",", "").replace("\u2212", "-")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def last_number(text: str) -> float | None:
    """The last number written in ``text``: ``"it is 1,234.5."`` -> 1234.5."""
    for match in reversed(list(_NUMBER.finditer(text))):
        if any(ch.isdigit() for ch in match.group(0)):
            return parse_number(match.group(0))
    return None


class Numeric:
    """1 if the answer's last number is within ``tolerance`` of the expected value."""

    name = "numeric"
    options = frozenset({"relative", "tolerance", "value"})

    def _expected(self, options: ScorerOptions, target: ScoreTarget) -> float:
        value = options.get("value")
        if value is None:
            if target.expected is None:
                raise InvalidInput("scorer 'numeric' needs the case's 'expected' or a 'value'")
            parsed = parse_number(target.expected)
            if parsed is None:
                raise InvalidInput(
                    f"scorer 'numeric': expected {target.expected!r} is not a number"
                )
            return parsed
        number = option_number(options, "value", None, float("-inf"), float("inf"))
        assert number is not None
        return number

    def check(self, options: ScorerOptions, target: ScoreTarget) -> None:
        self._expected(options, target)
        option_number(options, "tolerance", 0.0, 0.0, float("inf"))
        option_bool(options, "relative", False)

    def score(self, answer: str, target: ScoreTarget, options: ScorerOptions) -> float:
        expected = self._expected(options, target)
        got = last_number(answer)
        if got is None:
            return 0.0
        tolerance = option_number(options, "tolerance", 0.0, 0.0, float("inf")) or 0.0
        if option_bool(options, "relative", False):
            tolerance *= abs(expected)
        return 1.0 if abs(got - expected) <= tolerance + 1e-12 else 0.0
