"""``error``: does the candidate fail where the primary succeeded?

A delta, candidate minus primary, of "this call failed" (0 or 1): +1 when the
candidate failed where the primary answered, -1 when the candidate answered
where the primary failed, 0 when both did the same. Its mean is the paired
difference of the two error rates, with a confidence interval, and it applies
to every pair (failures are exactly what the text comparators cannot score).
"""

from __future__ import annotations

from turnout.domain.comparators.base import ComparatorKind, FunctionComparator
from turnout.domain.shadow import ShadowPair

__all__ = ["COMPARATORS", "error"]


def error(pair: ShadowPair) -> float:
    """1 - 0 when only the candidate failed, 0 - 1 when only the primary did, else 0."""
    return float(not pair.candidate.ok) - float(not pair.primary.ok)


COMPARATORS = (FunctionComparator("error", ComparatorKind.DELTA, error, "rate"),)
