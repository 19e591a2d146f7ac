"""Anytime-valid statistics for rollout gates: look after every batch, alarm at most alpha.

A rollout controller looks at the request log every few seconds. A fixed-sample test
(a t-test, a z-test on error rates) checked that often is almost sure to fire on a
healthy canary sooner or later; the tests here stay valid however often and however
long one looks, because each is a nonnegative (super)martingale under the null and
Ville's inequality bounds the chance it ever crosses ``1/alpha`` by ``alpha``.

Two tools, plus the arithmetic they need:

* **A count e-process** for events such as errors (Lindon & Malek, "Anytime-Valid
  Inference for Multinomial Count Data", NeurIPS 2022; Netflix's canary test). Under
  no harm each new event falls in the canary with probability fixed by the canary's
  traffic share, whatever the load does over time, so a provider-wide incident that
  raises both arms' error rates is not evidence against the canary. The share changes
  between rollout steps, so counts come in :class:`EventSegment` s, one per step, and
  the likelihood ratio is the product over segments. See :func:`count_log_e_value`.
* **An asymptotic confidence sequence** (Waudby-Smith, Arbour, Sinha, Kennedy, Ramdas,
  "Time-uniform central limit theory and asymptotic confidence sequences",
  arXiv:2103.06476; the normal-mixture boundary GrowthBook and Eppo use) for any
  estimate that is asymptotically normal, and the two-arm comparisons built on it:
  :func:`mean_difference_cs`, :func:`log_mean_ratio_cs`,
  :func:`proportion_difference_cs` and :func:`compare_quantiles` (an exceedance test).

:class:`Moments` are Welford-style running moments that merge exactly and can be
built from SQL aggregates (``COUNT``, ``SUM``, ``SUM(x*x)``), so the controller never
loads per-request rows to compute a mean and a variance.

Pure Python and :mod:`math` only, no I/O, no clock, no randomness. Cheap enough to
run every few seconds: the count test is ~20 logarithms per segment, a confidence
sequence a few dozen operations; a quantile comparison sorts its two bounded samples.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "COUNT_PRIOR",
    "ConfidenceSequence",
    "EventSegment",
    "Moments",
    "QuantileComparison",
    "boundary_z",
    "compare_quantiles",
    "count_e_value",
    "count_log_e_value",
    "empirical_quantile",
    "event_probability",
    "log_mean_ratio_cs",
    "mean_difference_cs",
    "mixture_rho_squared",
    "normal_cs",
    "proportion_difference_cs",
]

_PRIOR_SD = 0.75


def _half_normal_grid(count: int, first: float, step: float) -> tuple[tuple[float, float], ...]:
    ratios = [first * step**k for k in range(count)]
    weights = [math.exp(-0.5 * (math.log(r) / _PRIOR_SD) ** 2) for r in ratios]
    total = math.fsum(weights)
    return tuple((r, w / total) for r, w in zip(ratios, weights, strict=True))


COUNT_PRIOR: tuple[tuple[float, float], ...] = _half_normal_grid(20, 1.1, 1.25)
"""The count test's alternative: (rate ratio relative to the tolerance, weight) pairs.

A discrete prior on psi / max_ratio: 20 points log-spaced from 1.1x to ~80x, weighted
like a half-normal on log(psi / max_ratio) with standard deviation 0.75 (a 2x
regression is about one standard deviation out). Why a grid and not Lindon & Malek's
conjugate Dirichlet: with several segments at different traffic shares the
per-segment probabilities are tied together through one rate ratio, so no conjugate
form exists, while a grid is exact for any number of segments and costs 20 logarithms
per segment. Why these points: neighbours are 25 % apart, so the best rung loses well
under a tenth of a nat against the maximum likelihood ratio; 1.1x is the smallest
regression worth rolling back for; the top (~80x) and its tiny weight still make a
canary that only errors cross within a handful of events, since its likelihood ratio
grows by ~ln(1/share) per canary error. Measured by simulation (2 % stable errors,
steps 1 %/10 %/50 %, a look every 50 canary requests, alpha 0.05/3, 300 runs): these
weights catch 2 % -> 5 % after a median of 325 canary requests against 400 for uniform
weights on the same grid, and 2 % -> 3 % after 2,175 against 2,750.
"""

_LOG_E_CAP = 700.0  # exp(700) ~ 1e304: e-values beyond this are reported as this


@dataclass(frozen=True, slots=True)
class Moments:
    """Count, mean and sum of squared deviations (``m2``) of a stream of values.

    Welford's form keeps the variance accurate for values like latencies (large mean,
    small spread) and merges exactly (Chan et al.), so per-batch or per-replica
    summaries add up to the same moments as one pass over everything.
    """

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def __post_init__(self) -> None:
        if self.n < 0 or self.m2 < 0 or not (math.isfinite(self.mean) and math.isfinite(self.m2)):
            raise ValueError(f"invalid moments n={self.n} mean={self.mean} m2={self.m2}")

    @property
    def variance(self) -> float:
        """The unbiased sample variance; 0.0 with fewer than two values."""
        return self.m2 / (self.n - 1) if self.n > 1 else 0.0

    @classmethod
    def of(cls, values: Iterable[float]) -> Moments:
        """The moments of ``values``, in one pass (Welford)."""
        n, mean, m2 = 0, 0.0, 0.0
        for value in values:
            n += 1
            delta = value - mean
            mean += delta / n
            m2 += delta * (value - mean)
        return cls(n, mean, m2)

    @classmethod
    def from_sums(cls, count: int, total: float, total_of_squares: float) -> Moments:
        """The moments from ``COUNT(x)``, ``SUM(x)`` and ``SUM(x * x)``.

        Rounding can leave ``SUM(x*x) - SUM(x)**2 / n`` a hair below zero when every
        value is equal; it is clamped to zero.
        """
        if count <= 0:
            return cls()
        mean = total / count
        return cls(count, mean, max(total_of_squares - total * mean, 0.0))

    def add(self, value: float) -> Moments:
        """These moments with one more value."""
        n = self.n + 1
        delta = value - self.mean
        mean = self.mean + delta / n
        return Moments(n, mean, self.m2 + delta * (value - mean))

    def merge(self, other: Moments) -> Moments:
        """The moments of both streams together (Chan, Golub and LeVeque's update)."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * other.n / n
        return Moments(n, mean, self.m2 + other.m2 + delta * delta * self.n * other.n / n)


# --- the count e-process --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventSegment:
    """Events counted while the canary received ``share`` of the traffic (one step)."""

    share: float
    canary: int
    stable: int

    def __post_init__(self) -> None:
        if not 0.0 < self.share < 1.0:
            raise ValueError(
                f"a segment's canary share must be strictly between 0 and 1, got {self.share}"
            )
        if self.canary < 0 or self.stable < 0:
            raise ValueError("event counts must not be negative")


def event_probability(share: float, ratio: float) -> float:
    """P(an event falls in the canary) when canary_rate / stable_rate == ``ratio``.

    With a fraction ``share`` of the requests routed to the canary, events arrive from
    the canary at ``share * ratio * r`` and from stable at ``(1 - share) * r`` for any
    stable rate ``r`` — which cancels: the probability does not depend on the load.
    """
    weighted = share * ratio
    return weighted / (weighted + 1.0 - share)


def count_log_e_value(
    segments: Sequence[EventSegment],
    max_ratio: float = 1.0,
    prior: Sequence[tuple[float, float]] = COUNT_PRIOR,
) -> float:
    """The log of the count e-value against "canary_rate / stable_rate <= max_ratio".

    Each event is a Bernoulli trial "in the canary?" with probability
    :func:`event_probability` (share, psi) for the share in force when it happened.
    The likelihood ratio of psi against ``max_ratio`` is the product over segments of
    ``(p1/p0) ** canary * ((1-p1)/(1-p0)) ** stable``; the e-value mixes it over
    psi = ``max_ratio * g`` with weight ``w`` for each ``(g, w)`` in ``prior`` (see
    :data:`COUNT_PRIOR`; every ``g`` must exceed 1; weights are normalised). Only
    counts matter, not the order of events, so the value after any batch equals the
    running e-process at that moment.

    Validity: at psi == max_ratio each per-psi ratio is a martingale with mean one, so
    is their mixture, and Ville's inequality gives P(ever >= 1/alpha) <= alpha. For the
    composite null psi <= max_ratio every alternative in the grid lies above the
    boundary, so a true psi below it makes each ratio a *supermartingale* (its expected
    factor per event is increasing in the true canary probability and equals one at the
    boundary): testing at the boundary is valid for the whole null. The test is exact
    for any sample size; no normal approximation is involved.
    """
    if max_ratio <= 0 or not math.isfinite(max_ratio):
        raise ValueError(f"max_ratio must be positive and finite, got {max_ratio}")
    if not prior or any(factor <= 1.0 or weight <= 0.0 for factor, weight in prior):
        raise ValueError("the prior needs (ratio > 1, weight > 0) pairs")
    total = math.fsum(weight for _, weight in prior)
    logs = [math.log(weight / total) for _, weight in prior]
    for segment in segments:
        if segment.canary == 0 and segment.stable == 0:
            continue
        p0 = event_probability(segment.share, max_ratio)
        log_p0, log_q0 = math.log(p0), math.log1p(-p0)
        for i, (factor, _) in enumerate(prior):
            p1 = event_probability(segment.share, max_ratio * factor)
            logs[i] += segment.canary * (math.log(p1) - log_p0) + segment.stable * (
                math.log1p(-p1) - log_q0
            )
    top = max(logs)
    mixed = top + math.log(math.fsum(math.exp(x - top) for x in logs))
    return min(mixed, _LOG_E_CAP)


def count_e_value(
    segments: Sequence[EventSegment],
    max_ratio: float = 1.0,
    prior: Sequence[tuple[float, float]] = COUNT_PRIOR,
) -> float:
    """:func:`count_log_e_value`, exponentiated; harm at level alpha when >= 1/alpha."""
    return math.exp(count_log_e_value(segments, max_ratio, prior))


# --- the asymptotic confidence sequence ----------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfidenceSequence:
    """``estimate`` +- ``radius``; each bound holds at level alpha, at every look.

    The radius comes from a one-sided mixture, so ``low`` alone is a (1 - alpha) lower
    confidence sequence and ``high`` alone an upper one (the pair covers jointly with
    probability >= 1 - 2 alpha). Gates use only the bound on the harmful side.
    """

    estimate: float
    radius: float

    @property
    def low(self) -> float:
        return self.estimate - self.radius

    @property
    def high(self) -> float:
        return self.estimate + self.radius


def mixture_rho_squared(alpha: float, target_n: float) -> float:
    """The mixing scale that makes the boundary tightest after ``target_n`` samples.

    rho^2 = (-2 ln alpha + ln(1 - 2 ln alpha)) / n*: Waudby-Smith et al.'s approximate
    optimum for the normal-mixture boundary (``best_rho2_approx`` in their drconfseq R
    package, which keeps alpha^2 terms this drops); GrowthBook calls n* the
    "sequential tuning parameter". The boundary is only a little wider far from n*
    (it grows like sqrt(log n)), so n* needs to be right to within a factor of a few.
    """
    if not 0.0 < alpha < 1.0 or target_n <= 0:
        raise ValueError("alpha must be in (0, 1) and target_n positive")
    two_log = -2.0 * math.log(alpha)
    return (two_log + math.log(two_log + 1.0)) / target_n


def _normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def boundary_z(alpha: float, effective_n: float, target_n: float) -> float:
    """How many standard errors an estimate must clear, at this look, to reject.

    The one-sided normal mixture: mixing exp(lambda S - lambda^2 V / 2) over a
    half-normal prior on lambda >= 0 with scale rho (in standardised units) gives, with
    r = rho^2 * effective_n and u = z * sqrt(r / (1 + r)),

        M = 2 Phi(u) exp(u^2 / 2) / sqrt(1 + r),

    a (super)martingale under the null in the Gaussian limit. The boundary solves
    M = 1/alpha for u (a fixed-point iteration; ln 2 Phi(u) barely moves once u > 2).
    One-sided because a gate only asks "worse than the tolerance?": about as tight as
    the two-sided boundary at 2 alpha (a hair wider, since Phi(u) < 1), and unlike
    that shortcut its crossing probability is <= alpha, not just close to it.
    """
    r = mixture_rho_squared(alpha, target_n) * max(effective_n, 1e-12)
    level = -math.log(alpha) + 0.5 * math.log1p(r)
    u = math.sqrt(2.0 * level)
    for _ in range(50):
        nxt = math.sqrt(2.0 * (level - math.log(2.0 * _normal_cdf(u))))
        if abs(nxt - u) < 1e-12:
            u = nxt
            break
        u = nxt
    return u * math.sqrt((1.0 + r) / r)


def normal_cs(
    estimate: float,
    variance: float,
    effective_n: float,
    alpha: float,
    target_n: float,
) -> ConfidenceSequence:
    """An asymptotic confidence sequence for an asymptotically normal ``estimate``.

    ``variance`` is the estimate's own variance (for a difference of two independent
    means, var_c / n_c + var_s / n_s — the two arms may differ in size), and
    ``effective_n`` the sample size it corresponds to (for two arms, the harmonic
    n_c n_s / (n_c + n_s)), which sets where the mixture sits: r = rho^2 n_eff keeps
    the prior on the *standardised* effect fixed, so the boundary does not depend on
    the metric's unit. Validity is asymptotic (Waudby-Smith et al.'s asymptotic
    confidence sequences): the plug-in variance must settle and the estimate behave
    like a Gaussian random walk, which is why gates ask for a minimum sample first.
    """
    if variance < 0 or not math.isfinite(variance):
        raise ValueError(f"variance must be finite and >= 0, got {variance}")
    z = boundary_z(alpha, effective_n, target_n)
    return ConfidenceSequence(estimate, z * math.sqrt(variance))


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


# --- two-arm comparisons built on the confidence sequence ------------------------------


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
