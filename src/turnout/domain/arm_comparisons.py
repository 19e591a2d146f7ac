"""Canary-against-stable comparisons, each an anytime-valid confidence sequence.

What a gate actually asks is a two-arm question: is the canary's mean, error
proportion or q-quantile worse than stable's by more than the tolerance? The arms
differ in size (a 1 % canary against a 99 % stable arm), so each comparison here
works out the right estimate, its variance and its effective sample size, and hands
them to :func:`~turnout.domain.confidence_sequences.normal_cs`. Kept apart from the
boundary itself so that the statistics of one comparison (the delta method for a
ratio of means, the exceedance form of a quantile claim) read on their own.

Pure Python, :mod:`math` and :mod:`bisect` only, no I/O, no clock, no randomness;
a quantile comparison takes its two bounded samples already sorted.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

from turnout.domain.confidence_sequences import ConfidenceSequence, normal_cs
from turnout.domain.moments import Moments

__all__ = [
    "QuantileComparison",
    "compare_quantiles",
    "empirical_quantile",
    "log_mean_ratio_cs",
    "mean_difference_cs",
    "proportion_difference_cs",
]


def empirical_quantile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of ``ordered`` (sorted ascending): its ceil(q (n + 1))-th value.

    No interpolation, and the (n + 1) position rather than the textbook ceil(q n): the
    k-th of n values sits at population level k / (n + 1) on average (a Beta(k,
    n + 1 - k) variable), so this choice leaves at most 1 - q of the population above
    it on average, at every n. The textbook choice sits *below* the quantile (for the
    95th of 100 values, 5.9 % of the population lies above it), which made the
    exceedance test cry wolf at small samples. Capped at the largest value.
    """
    if not ordered:
        raise ValueError("the quantile of no values is undefined")
    rank = min(max(math.ceil(q * (len(ordered) + 1)), 1), len(ordered))
    return ordered[rank - 1]


def _effective_n(n_canary: float, n_stable: float) -> float:
    """n_c n_s / (n_c + n_s): ~n_c when stable is much larger, n/2 for equal arms."""
    return n_canary * n_stable / (n_canary + n_stable)


def mean_difference_cs(
    canary: Moments, stable: Moments, alpha: float, target_n: float
) -> ConfidenceSequence:
    """Canary mean - stable mean, for two independent arms of any sizes.

    The variance is the difference estimator's, var_c / n_c + var_s / n_s, so a 1 %
    canary against a 99 % stable arm is as valid as two equal halves.
    """
    if canary.n < 1 or stable.n < 1:
        raise ValueError("both arms need at least one value")
    variance = canary.variance / canary.n + stable.variance / stable.n
    return normal_cs(
        canary.mean - stable.mean,
        variance,
        _effective_n(canary.n, stable.n),
        alpha,
        target_n,
    )


def log_mean_ratio_cs(
    canary: Moments, stable: Moments, alpha: float, target_n: float
) -> ConfidenceSequence:
    """ln(canary mean / stable mean), by the delta method; both means must be > 0.

    Var ln(m) ~ var / (n m^2): the ratio of *means* (what a tolerance like "cost per
    request at most 1.2x" says), computable from SUM and SUM of squares, unlike a mean
    of logs.
    """
    if canary.n < 1 or stable.n < 1 or canary.mean <= 0 or stable.mean <= 0:
        raise ValueError("both arms need values with a positive mean")
    variance = canary.variance / (canary.n * canary.mean**2) + stable.variance / (
        stable.n * stable.mean**2
    )
    return normal_cs(
        math.log(canary.mean / stable.mean),
        variance,
        _effective_n(canary.n, stable.n),
        alpha,
        target_n,
    )


def proportion_difference_cs(
    canary_hits: int,
    canary_n: int,
    stable_hits: int,
    stable_n: int,
    alpha: float,
    target_n: float,
) -> ConfidenceSequence:
    """Canary proportion - stable proportion (e.g. error rates), Bernoulli outcomes.

    The variance plugs in (hits + 1/2) / (n + 1) rather than hits / n, so an arm with
    no hits yet does not claim zero variance (the Agresti-Coull idea in its mildest
    form); the estimate itself is the plain difference.
    """
    if canary_n < 1 or stable_n < 1:
        raise ValueError("both arms need at least one outcome")
    p_c, p_s = (canary_hits + 0.5) / (canary_n + 1), (stable_hits + 0.5) / (stable_n + 1)
    variance = p_c * (1 - p_c) / canary_n + p_s * (1 - p_s) / stable_n
    return normal_cs(
        canary_hits / canary_n - stable_hits / stable_n,
        variance,
        _effective_n(canary_n, stable_n),
        alpha,
        target_n,
    )


@dataclass(frozen=True, slots=True)
class QuantileComparison:
    """The exceedance test of "canary q-quantile <= ratio x stable's + increase".

    ``excess`` is a confidence sequence for (fraction of canary values above
    ``threshold``) - (1 - q); ``harm`` when its lower bound is above zero.
    ``canary_low``/``canary_high`` bound the canary's q-quantile in the metric's unit,
    read off its order statistics at the levels the sequence's radius allows
    (-inf/inf when the sample cannot bound that side yet); ``harm`` is exactly
    ``canary_low > threshold``.
    """

    q: float
    canary_quantile: float
    stable_quantile: float
    threshold: float
    excess: ConfidenceSequence
    canary_low: float
    canary_high: float

    @property
    def harm(self) -> bool:
        return self.canary_low > self.threshold


def compare_quantiles(
    canary_sorted: Sequence[float],
    stable_sorted: Sequence[float],
    q: float,
    alpha: float,
    target_n: float,
    ratio: float = 1.0,
    increase: float = 0.0,
) -> QuantileComparison:
    """Test the canary's q-quantile against ``ratio`` x stable's q-quantile + ``increase``.

    For continuous values Q_c(q) <= t exactly when P(canary > t) <= 1 - q, so with
    t = ratio x Q_s(q) + increase the quantile claim becomes a proportion claim. The
    threshold uses the stable sample's quantile, whose own error moves the canary's
    exceedance fraction by about as much as the canary's binomial noise when the
    canary sits on the tolerance (exactly so for a scale or shift of the stable
    distribution), hence the variance q (1 - q) (1/n_c + 1/n_s) — the variance under
    the null boundary, like a score test, which stays honest at small counts.
    Both inputs must be sorted ascending.
    """
    n_c, n_s = len(canary_sorted), len(stable_sorted)
    if n_c < 1 or n_s < 1 or not 0.0 < q < 1.0:
        raise ValueError("both samples need values and q must be in (0, 1)")
    stable_q = empirical_quantile(stable_sorted, q)
    threshold = ratio * stable_q + increase
    above = n_c - bisect.bisect_right(canary_sorted, threshold)
    excess = normal_cs(
        above / n_c - (1.0 - q),
        q * (1.0 - q) * (1.0 / n_c + 1.0 / n_s),
        _effective_n(n_c, n_s),
        alpha,
        target_n,
    )
    # harm <=> more than n_c (1 - q + radius) values above the threshold <=> the m-th
    # largest value is above it, m = floor(n_c (1 - q + radius)) + 1.
    m = math.floor(n_c * (1.0 - q + excess.radius)) + 1
    low = canary_sorted[n_c - m] if m <= n_c else -math.inf
    j = math.floor(n_c * (q + excess.radius))
    high = canary_sorted[j] if j < n_c else math.inf
    return QuantileComparison(
        q, empirical_quantile(canary_sorted, q), stable_q, threshold, excess, low, high
    )
