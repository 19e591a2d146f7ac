"""Eval scorers by name: each turns one answer into a score in [0, 1].

Adding a scorer is adding a file with a class that satisfies
:class:`~turnout.domain.eval_scorers.base.EvalScorer` and one entry in
:data:`SCORERS`. All are pure except ``judge``, which a model grades (the
run calls :mod:`turnout.services.judge` for it; see :func:`is_model_graded`).
"""

from __future__ import annotations

from collections.abc import Mapping

from turnout.domain.eval_scorers.base import EvalScorer, ScorerOptions, ScoreTarget
from turnout.domain.eval_scorers.json_schema import JsonSchema
from turnout.domain.eval_scorers.judge import JUDGE, Judge
from turnout.domain.eval_scorers.numeric import Numeric
from turnout.domain.eval_scorers.similarity import Similarity
from turnout.domain.eval_scorers.text import Contains, Exact, Regex
from turnout.errors import InvalidInput

__all__ = [
    "JUDGE",
    "SCORERS",
    "EvalScorer",
    "ScoreTarget",
    "ScorerOptions",
    "check_scorer",
    "is_model_graded",
    "score",
]

SCORERS: Mapping[str, EvalScorer] = {
    scorer.name: scorer
    for scorer in (Exact(), Contains(), Regex(), JsonSchema(), Numeric(), Similarity(), Judge())
}
"""Every built-in scorer by name."""


def is_model_graded(name: str) -> bool:
    """True for scorers a model grades (``judge``): the run, not :func:`score`, handles them."""
    return name == JUDGE


def _scorer(name: str) -> EvalScorer:
    scorer = SCORERS.get(name)
    if scorer is None:
        raise InvalidInput(f"unknown scorer {name!r}; known: {', '.join(sorted(SCORERS))}")
    return scorer


def check_scorer(name: str, options: ScorerOptions, target: ScoreTarget) -> None:
    """Refuse an unknown scorer, an unknown option, or options it cannot score with."""
    scorer = _scorer(name)
    unknown = sorted(set(options) - scorer.options)
    if unknown:
        accepted = ", ".join(sorted(scorer.options)) or "none"
        raise InvalidInput(
            f"scorer '{name}': unknown option(s) {', '.join(unknown)} (accepted: {accepted})"
        )
    scorer.check(options, target)


def score(name: str, answer: str, target: ScoreTarget, options: ScorerOptions) -> float:
    """A pure scorer's score of ``answer``, clamped to [0, 1]."""
    value = _scorer(name).score(answer, target, options)
    return min(1.0, max(0.0, value))
