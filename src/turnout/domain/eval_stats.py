"""Paired comparison of two eval runs: the mean per-case difference with a t interval.

Two runs of one suite grade the *same* cases, so the honest comparison is
paired: per case, score(B) - score(A), and a Student-t interval on the mean of
those differences. Pairing removes the case-to-case spread in difficulty, which
is usually far larger than the difference between two models; an unpaired
interval on the two means would be much wider and miss real regressions.

The t quantile comes from :mod:`turnout.domain.intervals` (no SciPy in the domain).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from turnout.domain.intervals import student_t_quantile

__all__ = ["PairedInterval", "paired_interval"]


@dataclass(frozen=True, slots=True)
class PairedInterval:
    """Mean of paired differences, its standard error and confidence interval.

    With one pair the spread is unknown: ``std_error`` and the bounds are None.
    """

    n: int
    mean: float
    std_dev: float | None
    std_error: float | None
    low: float | None
    high: float | None
    confidence: float

    @property
    def excludes_zero(self) -> bool:
        """True when the interval says the difference is real (in either direction)."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


def paired_interval(differences: Sequence[float], confidence: float = 0.95) -> PairedInterval:
    """The paired t interval: mean +- t(1-alpha/2, n-1) * sd / sqrt(n)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    n = len(differences)
    if n == 0:
        raise ValueError("no paired differences")
    mean = math.fsum(differences) / n
    if n == 1:
        return PairedInterval(1, mean, None, None, None, None, confidence)
    variance = math.fsum((d - mean) ** 2 for d in differences) / (n - 1)
    sd = math.sqrt(variance)
    se = sd / math.sqrt(n)
    half = student_t_quantile(1.0 - (1.0 - confidence) / 2.0, n - 1) * se
    return PairedInterval(n, mean, sd, se, mean - half, mean + half, confidence)
