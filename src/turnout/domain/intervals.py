"""Fixed-sample confidence intervals for the shadow report (two-sided, 95 % by default).

A shadow report is read once, after the fact, over a closed window of pairs, so
the textbook fixed-sample intervals are the right tool here — unlike rollout
gates (``sequential.py``), which look after every batch and need always-valid
confidence sequences. Three shapes cover the report:

* :func:`wilson_interval` for a 0/1 rate (agreement, error rate): unlike the
  normal "Wald" interval it stays inside [0, 1] and does not collapse to a point
  at 0/n or n/n, which is exactly where shadow rates live (99 % agreement);
* :func:`mean_interval`, Student's t, for the mean of scores in [0, 1] and of
  paired differences (candidate minus primary on the *same* request, so the
  request-to-request spread cancels out);
* :func:`median_interval`, the distribution-free order-statistic interval, for
  the median of paired differences: latency deltas are skewed and heavy-tailed,
  so the median is the honest "typical" change and needs no normality.

Everything is computed from the standard library (:class:`statistics.NormalDist`
and a continued fraction for Student's t), so the domain stays free of SciPy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

__all__ = [
    "Interval",
    "mean_interval",
    "median_interval",
    "normal_quantile",
    "student_t_cdf",
    "student_t_quantile",
    "wilson_interval",
]

_EXACT_MEDIAN_LIMIT = 1000
"""Up to this many values the median interval uses exact binomial tails (big ints)."""


@dataclass(frozen=True, slots=True)
class Interval:
    """A closed interval [low, high] of plausible values of a parameter."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"interval low {self.low} is above high {self.high}")

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, float]:
        return {"low": self.low, "high": self.high}


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def normal_quantile(p: float) -> float:
    """The standard normal's p-quantile (1.959964 for p = 0.975)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    return NormalDist().inv_cdf(p)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson's score interval for a binomial proportion ``successes / n``.

    It inverts the score test, so it is the set of p for which the observed rate
    is not surprising; E. B. Wilson (1927). For 8/10 at 95 %: [0.490, 0.943].
    """
    _check_confidence(confidence)
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes}/{n}")
    z = normal_quantile(0.5 + confidence / 2.0)
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Lentz's method for the continued fraction of the incomplete beta function."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 10_000):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return result


def _regularised_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularised incomplete beta function (Numerical Recipes 6.4)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def student_t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    tail = 0.5 * _regularised_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def student_t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t (12.706 for p = 0.975, df = 1; 2.262 for df = 9).

    Bisection on :func:`student_t_cdf`: a few dozen steps, exact to ~1e-12,
    which is plenty for a report and needs no table or SciPy.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if p < 0.5:
        return -student_t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    low, high = 0.0, 2.0
    while student_t_cdf(high, df) < p:
        low, high = high, high * 2.0
    for _ in range(200):
        mid = (low + high) / 2.0
        if student_t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low <= 1e-12 * max(1.0, high):
            break
    return (low + high) / 2.0


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> Interval | None:
    """Student's t interval for the mean of ``values``; None below two values.

    With paired differences as ``values`` this is the paired t interval. A
    sample with no spread gives the point interval [mean, mean].
    """
    _check_confidence(confidence)
    n = len(values)
    if n < 2:
        return None
    mean = math.fsum(values) / n
    variance = math.fsum((value - mean) ** 2 for value in values) / (n - 1)
    half = student_t_quantile(0.5 + confidence / 2.0, n - 1) * math.sqrt(variance / n)
    return Interval(mean - half, mean + half)


def median_interval(ordered: Sequence[float], confidence: float = 0.95) -> Interval | None:
    """The order-statistic interval [x_(j), x_(n+1-j)] for the median of ``ordered``.

    ``ordered`` must be sorted ascending. The number of values below the true
    median is Binomial(n, 1/2) whatever the distribution, so the largest j with
    P(B <= j - 1) <= (1 - confidence) / 2 gives coverage of at least
    ``confidence`` (for n = 10: [x_(2), x_(9)], 97.9 %). Exact binomial tails up
    to 1000 values, the normal approximation beyond. None when n is too small for
    any pair of order statistics to reach the confidence (n <= 5 at 95 %).
    """
    _check_confidence(confidence)
    n = len(ordered)
    if n == 0:
        return None
    alpha_half = (1.0 - confidence) / 2.0
    if n <= _EXACT_MEDIAN_LIMIT:
        # j counts the leading binomial terms whose running sum (P(B <= j - 1) x 2^n,
        # in exact integers) stays within the tail allowance.
        j, below, total = 0, 0, 2**n
        while j < n // 2 and (below + math.comb(n, j)) / total <= alpha_half:
            below += math.comb(n, j)
            j += 1
    else:
        z = normal_quantile(1.0 - alpha_half)
        j = math.floor((n - z * math.sqrt(n)) / 2.0)
    if j < 1:
        return None
    return Interval(ordered[j - 1], ordered[n - j])
