"""``length_ratio``: candidate length / primary length, in characters.

A new model that answers at twice the length costs twice the output tokens and
may break a UI that expected one line; one that answers at a tenth may be
truncating. 1 means "as long"; the report gives its mean and median.
"""

from __future__ import annotations

from turnout.domain.comparators.base import ComparatorKind, FunctionComparator, both_texts
from turnout.domain.shadow import ShadowPair

__all__ = ["COMPARATORS", "length_ratio"]


def length_ratio(pair: ShadowPair) -> float | None:
    """len(candidate) / len(primary); 1 for two empty texts, None for an empty primary."""
    texts = both_texts(pair)
    if texts is None:
        return None
    primary, candidate = len(texts[0]), len(texts[1])
    if primary == 0:
        return 1.0 if candidate == 0 else None
    return candidate / primary


COMPARATORS = (FunctionComparator("length_ratio", ComparatorKind.RATIO, length_ratio, "x"),)
