"""Asymptotic confidence sequences: intervals that stay valid at every look.

The gates on means, proportions and quantiles are checked after every batch, which
would make a fixed-sample interval cry wolf sooner or later. These are the
normal-mixture asymptotic confidence sequences of Waudby-Smith, Arbour, Sinha,
Kennedy and Ramdas ("Time-uniform central limit theory and asymptotic confidence
sequences", arXiv:2103.06476; the boundary GrowthBook and Eppo use), for any estimate
that is asymptotically normal. They live on their own because every two-arm
comparison in :mod:`turnout.domain.arm_comparisons` is built on the one boundary
here, and its derivation and tuning (:func:`mixture_rho_squared`) are best read in
one place.

Pure Python and :mod:`math` only, no I/O, no clock, no randomness; a few dozen
operations per sequence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ConfidenceSequence", "boundary_z", "mixture_rho_squared", "normal_cs"]


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
