"""The paired t interval and the t quantile, against values computed by hand and tables."""

from __future__ import annotations

import math

import pytest

from turnout.domain.eval_stats import paired_interval
from turnout.domain.intervals import student_t_cdf, student_t_quantile


@pytest.mark.parametrize(
    ("df", "quantile"),
    [(1, 12.7062), (2, 4.3027), (4, 2.7764), (5, 2.5706), (10, 2.2281), (30, 2.0423)],
)
def test_t_quantile_matches_the_table(df: int, quantile: float) -> None:
    assert student_t_quantile(0.975, df) == pytest.approx(quantile, abs=1e-4)
    assert student_t_quantile(0.025, df) == pytest.approx(-quantile, abs=1e-4)


def test_t_tends_to_the_normal_and_the_cdf_inverts_the_quantile() -> None:
    assert student_t_quantile(0.975, 100_000) == pytest.approx(1.95996, abs=1e-4)
    assert student_t_cdf(0.0, 7) == pytest.approx(0.5)
    for p in (0.6, 0.9, 0.99):
        assert student_t_cdf(student_t_quantile(p, 7), 7) == pytest.approx(p, abs=1e-9)


def test_paired_interval_against_a_hand_computed_value() -> None:
    # differences 0.1, 0.2, 0.0, 0.3, 0.1: mean 0.14, s^2 = 0.052/4 = 0.013,
    # se = sqrt(0.013/5) = 0.0509902, t(0.975, 4) = 2.776445 -> half-width 0.1415715
    interval = paired_interval([0.1, 0.2, 0.0, 0.3, 0.1])
    assert interval.n == 5
    assert interval.mean == pytest.approx(0.14)
    assert interval.std_dev == pytest.approx(math.sqrt(0.013))
    assert interval.std_error == pytest.approx(0.0509902, abs=1e-7)
    assert interval.low == pytest.approx(0.14 - 0.1415715, abs=1e-6)
    assert interval.high == pytest.approx(0.14 + 0.1415715, abs=1e-6)
    assert not interval.excludes_zero


def test_a_consistent_difference_excludes_zero() -> None:
    interval = paired_interval([1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    assert interval.low is not None
    assert interval.low > 0
    assert interval.excludes_zero


def test_degenerate_inputs() -> None:
    one = paired_interval([0.5])
    assert (one.mean, one.low, one.high, one.std_error) == (0.5, None, None, None)
    same = paired_interval([0.0, 0.0, 0.0])
    assert (same.low, same.high) == (0.0, 0.0)
    with pytest.raises(ValueError, match="no paired"):
        paired_interval([])
    with pytest.raises(ValueError, match="confidence"):
        paired_interval([1.0, 2.0], confidence=1.0)
