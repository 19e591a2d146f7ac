"""Anytime-valid statistics for rollout gates: look after every batch, alarm at most alpha.

A rollout controller looks at the request log every few seconds. A fixed-sample test
(a t-test, a z-test on error rates) checked that often is almost sure to fire on a
healthy canary sooner or later; the tests here stay valid however often and however
long one looks, because each is a nonnegative (super)martingale under the null and
Ville's inequality bounds the chance it ever crosses ``1/alpha`` by ``alpha``.

Two tools, plus the arithmetic they need, each in its own module; this one gathers
them, so the gates, the store's observer and the shadow report import from here:

* **A count e-process** for events such as errors (Lindon & Malek, "Anytime-Valid
  Inference for Multinomial Count Data", NeurIPS 2022; Netflix's canary test). Under
  no harm each new event falls in the canary with probability fixed by the canary's
  traffic share, whatever the load does over time, so a provider-wide incident that
  raises both arms' error rates is not evidence against the canary. The share changes
  between rollout steps, so counts come in :class:`EventSegment` s, one per step, and
  the likelihood ratio is the product over segments. See :func:`count_log_e_value`
  (:mod:`turnout.domain.count_eprocess`).
* **An asymptotic confidence sequence** (Waudby-Smith, Arbour, Sinha, Kennedy, Ramdas,
  "Time-uniform central limit theory and asymptotic confidence sequences",
  arXiv:2103.06476; the normal-mixture boundary GrowthBook and Eppo use) for any
  estimate that is asymptotically normal (:mod:`turnout.domain.confidence_sequences`),
  and the two-arm comparisons built on it: :func:`mean_difference_cs`,
  :func:`log_mean_ratio_cs`, :func:`proportion_difference_cs` and
  :func:`compare_quantiles`, an exceedance test (:mod:`turnout.domain.arm_comparisons`).

:class:`Moments` are Welford-style running moments that merge exactly and can be
built from SQL aggregates (``COUNT``, ``SUM``, ``SUM(x*x)``), so the controller never
loads per-request rows to compute a mean and a variance (:mod:`turnout.domain.moments`).

Pure Python and :mod:`math` only, no I/O, no clock, no randomness. Cheap enough to
run every few seconds: the count test is ~20 logarithms per segment, a confidence
sequence a few dozen operations; a quantile comparison sorts its two bounded samples.
"""

from __future__ import annotations

from turnout.domain.arm_comparisons import (
    QuantileComparison,
    compare_quantiles,
    empirical_quantile,
    log_mean_ratio_cs,
    mean_difference_cs,
    proportion_difference_cs,
)
from turnout.domain.confidence_sequences import (
    ConfidenceSequence,
    boundary_z,
    mixture_rho_squared,
    normal_cs,
)
from turnout.domain.count_eprocess import (
    COUNT_PRIOR,
    EventSegment,
    count_e_value,
    count_log_e_value,
    event_probability,
)
from turnout.domain.moments import Moments

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
