"""Confidence intervals against hand-computed and published values."""

from __future__ import annotations

import pytest

from turnout.domain.intervals import (
    Interval,
    mean_interval,
    median_interval,
    normal_quantile,
    student_t_cdf,
    student_t_quantile,
    wilson_interval,
)


def test_normal_quantile() -> None:
    assert normal_quantile(0.975) == pytest.approx(1.959964, abs=1e-6)
    assert normal_quantile(0.5) == 0.0
    with pytest.raises(ValueError, match="p must be"):
        normal_quantile(1.0)


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (8, 10, 0.4902, 0.9433),  # the textbook example
        (0, 10, 0.0, 0.2775),  # no collapse to a point at 0/n
        (10, 10, 0.7225, 1.0),
        (50, 100, 0.4038, 0.5962),
        (1, 1, 0.2065, 1.0),
    ],
)
def test_wilson_interval(successes: int, n: int, low: float, high: float) -> None:
    interval = wilson_interval(successes, n)
    assert interval.low == pytest.approx(low, abs=1e-4)
    assert interval.high == pytest.approx(high, abs=1e-4)


def test_wilson_interval_narrows_with_lower_confidence_and_rejects_nonsense() -> None:
    assert wilson_interval(8, 10, 0.8).low > wilson_interval(8, 10, 0.95).low
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(11, 10)
    with pytest.raises(ValueError, match="n > 0"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 2, 1.0)


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [
        (0.975, 1, 12.7062),  # published t tables
        (0.975, 2, 4.3027),
        (0.975, 9, 2.2622),
        (0.975, 30, 2.0423),
        (0.995, 3, 5.8409),
        (0.95, 120, 1.6577),
        (0.025, 9, -2.2622),
        (0.5, 4, 0.0),
    ],
)
def test_student_t_quantile(p: float, df: int, expected: float) -> None:
    assert student_t_quantile(p, df) == pytest.approx(expected, abs=1e-4)


def test_student_t_cdf_is_symmetric_and_tends_to_normal() -> None:
    assert student_t_cdf(0.0, 5) == pytest.approx(0.5)
    assert student_t_cdf(-2.0, 5) == pytest.approx(1 - student_t_cdf(2.0, 5))
    assert student_t_quantile(0.975, 1e6) == pytest.approx(1.959964, abs=1e-4)


def test_mean_interval_by_hand() -> None:
    # mean 3, sd sqrt(2.5), t(0.975, 4) = 2.776445 -> 3 -/+ 2.776445 * 1.581139 / sqrt(5)
    interval = mean_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert interval is not None
    assert interval.low == pytest.approx(1.036757, abs=1e-5)
    assert interval.high == pytest.approx(4.963243, abs=1e-5)
    assert mean_interval([2.0, 2.0, 2.0]) == Interval(2.0, 2.0)
    assert mean_interval([1.0]) is None
    assert mean_interval([]) is None


def test_median_interval_uses_order_statistics() -> None:
    values = [float(v) for v in range(1, 11)]
    # n = 10: P(B <= 1) = 11/1024 <= 0.025 < P(B <= 2) = 56/1024, so [x_(2), x_(9)]
    assert median_interval(values) == Interval(2.0, 9.0)
    # n = 6: only [min, max] reaches 95 % (coverage 1 - 2/64)
    assert median_interval([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]) == Interval(1.0, 6.0)
    assert median_interval([1.0, 2.0, 3.0, 4.0, 5.0]) is None
    assert median_interval([]) is None


def test_median_interval_exact_and_normal_regimes_meet() -> None:
    exact = median_interval([float(v) for v in range(1000)])
    approx = median_interval([float(v) for v in range(1001)])
    assert exact == Interval(468.0, 531.0)
    assert approx is not None
    assert exact is not None
    assert abs(approx.low - exact.low) <= 1


def test_interval_value() -> None:
    interval = Interval(0.1, 0.4)
    assert interval.contains(0.25)
    assert not interval.contains(0.5)
    assert interval.to_dict() == {"low": 0.1, "high": 0.4}
    with pytest.raises(ValueError, match="above"):
        Interval(1.0, 0.0)
