"""``normalised``: the texts are equal once trivial differences are ironed out.

Models that agree on the answer still differ in case, Unicode form (a full-width
digit, a ligature, a non-breaking space), spacing and a final full stop. This
comparator compares after :func:`normalise_text`, so ``"Paris."`` and ``" paris"``
agree while ``"Paris"`` and ``"Lyon"`` do not.
"""

from __future__ import annotations

import re
import unicodedata

from turnout.domain.comparators.base import ComparatorKind, FunctionComparator, both_texts
from turnout.domain.shadow import ShadowPair

__all__ = ["COMPARATORS", "normalise_text", "normalised"]

_WHITESPACE = re.compile(r"\s+")


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def normalise_text(text: str) -> str:
    """NFKC, casefolded, whitespace runs collapsed to one space, trailing punctuation off.

    NFKC runs again after casefolding because casefolding can leave text that is
    no longer NFKC-normal (the Unicode "NFKC_Casefold" recipe).
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    collapsed = _WHITESPACE.sub(" ", folded).strip()
    end = len(collapsed)
    while end > 0 and (_is_punctuation(collapsed[end - 1]) or collapsed[end - 1] == " "):
        end -= 1
    return collapsed[:end]


def normalised(pair: ShadowPair) -> float | None:
    """1 when the normalised texts are equal, 0 otherwise; None if a side failed."""
    texts = both_texts(pair)
    if texts is None:
        return None
    return 1.0 if normalise_text(texts[0]) == normalise_text(texts[1]) else 0.0


COMPARATORS = (FunctionComparator("normalised", ComparatorKind.AGREEMENT, normalised),)
