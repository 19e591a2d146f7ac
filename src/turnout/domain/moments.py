"""Running moments (count, mean, squared deviations) that merge exactly.

The rollout gates need a mean and a variance per arm after every batch. Loading
per-request rows for that would make each look cost as much as the request log is
long, so the moments here can be built from SQL aggregates (``COUNT``, ``SUM``,
``SUM(x*x)``) and merged across batches or replicas without loss. They live apart
from the statistics in :mod:`turnout.domain.sequential` because the store's
observer builds them too, and it only needs this arithmetic, not the tests.

Pure Python and :mod:`math` only, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Moments"]


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
