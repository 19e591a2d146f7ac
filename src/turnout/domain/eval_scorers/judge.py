"""``judge``: a model grades the answer. Only its options live here.

Grading calls a model, which is I/O, so the grading itself is
:mod:`turnout.services.judge`; the domain knows the scorer's name and checks
its options when the suite is loaded, like every other scorer's.
"""

from __future__ import annotations

from turnout.domain.eval_scorers.base import ScorerOptions, ScoreTarget, option_text
from turnout.domain.ids import VersionId
from turnout.errors import InvalidInput

__all__ = ["JUDGE", "Judge"]

JUDGE = "judge"


class Judge:
    """Options: ``version`` (the judge model, else the run's ``--judge``) and ``rubric``."""

    name = JUDGE
    options = frozenset({"rubric", "version"})
    model_graded = True

    def check(self, options: ScorerOptions, target: ScoreTarget) -> None:
        version = option_text(options, "version")
        if version is not None:
            VersionId.parse(version)
        option_text(options, "rubric")

    def score(self, answer: str, target: ScoreTarget, options: ScorerOptions) -> float:
        raise InvalidInput("the judge scorer is graded by a model (turnout.services.judge)")
