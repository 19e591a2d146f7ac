"""``exact``: the candidate's text is byte-for-byte the primary's.

The strictest check, and the right one for classifiers, extractors and
anything downstream code parses verbatim.
"""

from __future__ import annotations

from turnout.domain.comparators.base import ComparatorKind, FunctionComparator, both_texts
from turnout.domain.shadow import ShadowPair

__all__ = ["COMPARATORS", "exact"]


def exact(pair: ShadowPair) -> float | None:
    """1 when the texts are identical, 0 otherwise; None if a side failed."""
    texts = both_texts(pair)
    if texts is None:
        return None
    return 1.0 if texts[0] == texts[1] else 0.0


COMPARATORS = (FunctionComparator("exact", ComparatorKind.AGREEMENT, exact),)
