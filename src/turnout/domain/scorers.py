"""Online scorers: a quality score in [0, 1] for one served answer, computed live.

Rollout quality gates compare the arms on scores; user feedback
(``POST /v1/feedback``) is one source, these are the other: cheap, deterministic
checks the gateway runs on each answer of an alias under rollout (both arms, so
the comparison is fair). A scorer returns ``None`` when it has no opinion (an
arithmetic check on a prompt without arithmetic), and that request then adds no
sample. Adding a scorer is adding an entry to :data:`SCORERS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import orjson

from turnout.domain.arithmetic import evaluate_arithmetic, last_integer
from turnout.errors import InvalidInput

__all__ = ["SCORERS", "Scorer", "score_answer", "validate_scorers"]

Scorer = Callable[[str, str], float | None]
"""(prompt text, answer text) -> score in [0, 1], or None for "does not apply"."""

_REFUSAL = re.compile(
    r"\b(I can(?:no|')t (?:help|assist|comply)|I(?:'m| am) (?:sorry|unable)|"
    r"I won't be able|as an AI(?: language model)?)\b",
    re.IGNORECASE,
)


def _non_empty(_prompt: str, answer: str) -> float:
    return 1.0 if answer.strip() else 0.0


def _json_valid(_prompt: str, answer: str) -> float:
    try:
        orjson.loads(answer)
    except orjson.JSONDecodeError:
        return 0.0
    return 1.0


def _no_refusal(_prompt: str, answer: str) -> float:
    return 0.0 if _REFUSAL.search(answer) else 1.0


def _arithmetic(prompt: str, answer: str) -> float | None:
    expected = evaluate_arithmetic(prompt)
    if expected is None:
        return None
    return 1.0 if last_integer(answer) == expected else 0.0


SCORERS: Mapping[str, Scorer] = {
    "arithmetic": _arithmetic,
    "json_valid": _json_valid,
    "no_refusal": _no_refusal,
    "non_empty": _non_empty,
}
"""Built-in scorers by name: ``arithmetic`` (the answer's last integer is the prompt's
arithmetic result — the sim provider's quality), ``json_valid``, ``no_refusal``,
``non_empty``."""


def validate_scorers(names: Sequence[str]) -> tuple[str, ...]:
    """The names, checked: known and not repeated."""
    unknown = [name for name in names if name not in SCORERS]
    if unknown:
        raise InvalidInput(
            f"unknown scorer(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(SCORERS))}"
        )
    if len(set(names)) != len(names):
        raise InvalidInput("a scorer is listed twice")
    return tuple(names)


def score_answer(names: Sequence[str], prompt: str, answer: str) -> tuple[tuple[str, float], ...]:
    """Every applicable score of one answer, as (scorer name, score)."""
    scores = []
    for name in names:
        value = SCORERS[name](prompt, answer)
        if value is not None:
            scores.append((name, value))
    return tuple(scores)
