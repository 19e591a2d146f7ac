"""``refusal``: the candidate refuses exactly when the primary does.

A model upgrade that starts refusing benign requests ("I'm sorry, I can't help
with that") is one of the commonest silent regressions; one that stops refusing
what the primary refused is the other. Refusal detection is the online scorer's
(``turnout.domain.scorers``, ``no_refusal``), so a shadow report and a rollout's
quality gate agree on what a refusal is.
"""

from __future__ import annotations

from turnout.domain.comparators.base import ComparatorKind, FunctionComparator, both_texts
from turnout.domain.scorers import SCORERS
from turnout.domain.shadow import ShadowPair

__all__ = ["COMPARATORS", "is_refusal", "refusal"]


def is_refusal(text: str) -> bool:
    """True when ``text`` reads as a refusal (the ``no_refusal`` scorer scores it 0)."""
    return SCORERS["no_refusal"]("", text) == 0.0


def refusal(pair: ShadowPair) -> float | None:
    """1 when both refuse or both answer, 0 when only one refuses; None if a side failed."""
    texts = both_texts(pair)
    if texts is None:
        return None
    return 1.0 if is_refusal(texts[0]) == is_refusal(texts[1]) else 0.0


COMPARATORS = (FunctionComparator("refusal", ComparatorKind.AGREEMENT, refusal),)
