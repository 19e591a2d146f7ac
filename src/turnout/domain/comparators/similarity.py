"""``token_set`` and ``fuzzy``: how similar the texts are, in [0, 1] (rapidfuzz).

Free-text answers rarely match exactly even when they agree; a similarity score
ranks the pairs so that the report's worst disagreements are the ones a human
should read. ``token_set`` (the report's default ranking) ignores case,
punctuation, word order and repeated words, and scores 1 when one answer's words
are a subset of the other's — robust to "The answer is 42." vs "42". ``fuzzy``
is the plain normalised Indel similarity of the raw texts (rapidfuzz's
``fuzz.ratio``), sensitive to every character. rapidfuzz is pure computation
(C++ with no I/O), so the domain may use it.
"""

from __future__ import annotations

from rapidfuzz import fuzz, utils

from turnout.domain.comparators.base import ComparatorKind, FunctionComparator, both_texts
from turnout.domain.shadow import ShadowPair

__all__ = ["COMPARATORS", "fuzzy", "token_set"]


def token_set(pair: ShadowPair) -> float | None:
    """rapidfuzz ``token_set_ratio`` / 100 on lower-cased, punctuation-free words."""
    texts = both_texts(pair)
    if texts is None:
        return None
    if texts[0] == texts[1]:
        return 1.0  # rapidfuzz scores two empty (or all-punctuation) texts 0
    return fuzz.token_set_ratio(texts[0], texts[1], processor=utils.default_process) / 100.0


def fuzzy(pair: ShadowPair) -> float | None:
    """rapidfuzz ``ratio`` / 100 (normalised Indel similarity) on the raw texts."""
    texts = both_texts(pair)
    if texts is None:
        return None
    return fuzz.ratio(texts[0], texts[1]) / 100.0


COMPARATORS = (
    FunctionComparator("token_set", ComparatorKind.AGREEMENT, token_set),
    FunctionComparator("fuzzy", ComparatorKind.AGREEMENT, fuzzy),
)
