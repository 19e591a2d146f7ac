"""``similarity``: token-set similarity (rapidfuzz), for answers worded freely.

``token_set_ratio`` ignores word order and repeated words, and the default
processor lower-cases and drops punctuation, so "Paris is the capital." and
"the capital is paris" agree fully. Without ``threshold`` the score is the
similarity itself; with one it is pass/fail (1 at or above it, else 0).
"""

from __future__ import annotations

from rapidfuzz import fuzz, utils

from turnout.domain.eval_scorers.base import (
    ScorerOptions,
    ScoreTarget,
    option_number,
    reference_text,
)

__all__ = ["Similarity", "text_similarity"]


def text_similarity(a: str, b: str) -> float:
    """Token-set similarity of two texts in [0, 1] (case and punctuation ignored)."""
    return float(fuzz.token_set_ratio(a, b, processor=utils.default_process)) / 100.0


class Similarity:
    """Similarity to the expected text, or pass/fail against ``threshold``."""

    name = "similarity"
    options = frozenset({"threshold", "value"})

    def check(self, options: ScorerOptions, target: ScoreTarget) -> None:
        reference_text(options, target, self.name)
        option_number(options, "threshold", None, 0.0, 1.0)

    def score(self, answer: str, target: ScoreTarget, options: ScorerOptions) -> float:
        similarity = text_similarity(answer, reference_text(options, target, self.name))
        threshold = option_number(options, "threshold", None, 0.0, 1.0)
        if threshold is None:
            return similarity
        return 1.0 if similarity >= threshold else 0.0
