"""The scorer seam: what an eval scorer is, and the option readers every scorer shares.

A scorer turns one answer into a score in [0, 1]. It is a plain object with a
``name``, the ``options`` it accepts, a ``check`` run when the suite file is
loaded (so a bad regex or an unusable schema fails at line 12 of the file, not
halfway through a paid run) and a pure ``score``. The case it scores is seen
through :class:`ScoreTarget` only, so scorers and suites do not import each other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol

from turnout.errors import InvalidInput

__all__ = [
    "EvalScorer",
    "ScoreTarget",
    "ScorerOptions",
    "option_bool",
    "option_number",
    "option_text",
    "option_texts",
    "reference_text",
]

ScorerOptions = Mapping[str, object]
"""A scorer's options as written in the suite file (``ignore_case: true``...)."""


class ScoreTarget(Protocol):
    """What a scorer may know about the case: its expected answer and JSON schema."""

    @property
    def expected(self) -> str | None: ...

    @property
    def schema(self) -> Mapping[str, object] | None: ...


class EvalScorer(Protocol):
    """One kind of scorer, registered by ``name`` in ``eval_scorers.SCORERS``."""

    @property
    def name(self) -> str: ...

    @property
    def options(self) -> frozenset[str]:
        """The option keys it accepts (``weight`` and ``name`` are the suite's, not its)."""

    def check(self, options: ScorerOptions, target: ScoreTarget) -> None:
        """Raise :class:`~turnout.errors.InvalidInput` if it cannot score this case."""

    def score(self, answer: str, target: ScoreTarget, options: ScorerOptions) -> float:
        """The answer's score in [0, 1]; called only after ``check`` passed."""


def option_bool(options: ScorerOptions, key: str, default: bool) -> bool:
    value = options.get(key, default)
    if not isinstance(value, bool):
        raise InvalidInput(f"option '{key}' must be true or false, not {value!r}")
    return value


def option_number(
    options: ScorerOptions, key: str, default: float | None, low: float, high: float
) -> float | None:
    value = options.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"option '{key}' must be a number, not {value!r}")
    if not low <= value <= high:
        raise InvalidInput(f"option '{key}' must be between {low:g} and {high:g}, not {value:g}")
    return float(value)


def option_text(options: ScorerOptions, key: str) -> str | None:
    value = options.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"option '{key}' must be a string, not {value!r}")
    return value


def option_texts(options: ScorerOptions, key: str) -> tuple[str, ...] | None:
    """A string or a non-empty list of strings."""
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InvalidInput(f"option '{key}' must be a string or a list of strings, not {value!r}")


def reference_text(options: ScorerOptions, target: ScoreTarget, scorer: str) -> str:
    """The ``value`` option, else the case's ``expected``: what to compare against."""
    value = option_text(options, "value")
    if value is None:
        value = target.expected
    if value is None:
        raise InvalidInput(f"scorer '{scorer}' needs the case's 'expected' or a 'value' option")
    return value
