"""The anytime-valid statistics: known values, monotonicity, validity and power by simulation."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.domain.sequential import (
    COUNT_PRIOR,
    EventSegment,
    Moments,
    boundary_z,
    compare_quantiles,
    count_e_value,
    count_log_e_value,
    empirical_quantile,
    event_probability,
    log_mean_ratio_cs,
    mean_difference_cs,
    mixture_rho_squared,
    normal_cs,
    proportion_difference_cs,
)

VALUES = st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), max_size=40)
COUNTS = st.integers(min_value=0, max_value=400)
SHARES = st.sampled_from([0.01, 0.1, 0.5, 0.9])


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(rng.random() < p for _ in range(n))


def _monte_carlo_slack(alpha: float, runs: int) -> float:
    """Three standard errors of a rate estimated from ``runs`` runs."""
    return 3.0 * math.sqrt(alpha * (1 - alpha) / runs)


# --- moments ---------------------------------------------------------------------------


def test_moments_of_values_match_the_textbook() -> None:
    values = [798.0, 801.5, 812.25, 790.0, 805.0]
    m = Moments.of(values)
    assert m.n == 5
    assert m.mean == pytest.approx(statistics.fmean(values))
    assert m.variance == pytest.approx(statistics.variance(values))
    assert Moments().variance == 0.0
    assert Moments.of([3.0]).variance == 0.0


def test_moments_from_sql_aggregates_match_one_pass() -> None:
    values = [1000.0 + 0.001 * i for i in range(1000)]  # big mean, tiny spread
    from_sums = Moments.from_sums(len(values), sum(values), sum(v * v for v in values))
    assert from_sums.mean == pytest.approx(Moments.of(values).mean)
    assert from_sums.variance == pytest.approx(Moments.of(values).variance, rel=1e-3)
    assert Moments.from_sums(0, 0.0, 0.0) == Moments()
    assert Moments.from_sums(3, 3 * 0.1, 3 * 0.1 * 0.1).m2 >= 0.0  # rounding clamped


@given(VALUES, VALUES)
def test_merged_moments_equal_the_moments_of_both_streams(a: list[float], b: list[float]) -> None:
    merged, whole = Moments.of(a).merge(Moments.of(b)), Moments.of(a + b)
    assert merged.n == whole.n
    assert merged.mean == pytest.approx(whole.mean, rel=1e-9, abs=1e-6)
    assert merged.m2 == pytest.approx(whole.m2, rel=1e-6, abs=1e-3)


@given(VALUES)
def test_adding_values_one_by_one_equals_one_pass(values: list[float]) -> None:
    running = Moments()
    for value in values:
        running = running.add(value)
    assert running == Moments.of(values)


def test_moments_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="invalid moments"):
        Moments(-1)
    with pytest.raises(ValueError, match="invalid moments"):
        Moments(2, math.nan, 0.0)


# --- the count e-process ---------------------------------------------------------------


def test_event_probability_is_the_share_when_rates_are_equal() -> None:
    assert event_probability(0.1, 1.0) == pytest.approx(0.1)
    assert event_probability(0.01, 2.5) == pytest.approx(0.025 / 1.015)
    assert event_probability(0.5, 3.0) == pytest.approx(0.75)


def test_e_value_for_hand_computed_counts() -> None:
    # share 1/2, alternative psi = 2: p0 = 1/2, p1 = 2/3; 3 canary and 1 stable event.
    one_point = ((2.0, 1.0),)
    lr = (4 / 3) ** 3 * (2 / 3)
    assert count_e_value([EventSegment(0.5, 3, 1)], 1.0, one_point) == pytest.approx(128 / 81)
    # a two-point mixture averages the likelihood ratios: psi = 4 gives p1 = 4/5.
    two_points = ((2.0, 1.0), (4.0, 1.0))
    lr4 = (8 / 5) ** 3 * (2 / 5)
    assert count_e_value([EventSegment(0.5, 3, 1)], 1.0, two_points) == pytest.approx(
        (lr + lr4) / 2
    )
    # segments multiply: at share 0.1, psi = 2 gives p1 = 2/11 against p0 = 1/10.
    lr_b = (20 / 11) * ((9 / 11) / 0.9) ** 9
    segments = [EventSegment(0.5, 3, 1), EventSegment(0.1, 1, 9)]
    assert count_e_value(segments, 1.0, one_point) == pytest.approx(lr * lr_b)


def test_e_value_tests_the_tolerance_not_equality() -> None:
    # with max_ratio 2 the null is psi <= 2: at share 1/3, p0 = 1/2, and psi = 4 gives 2/3.
    assert count_e_value([EventSegment(1 / 3, 3, 1)], 2.0, ((2.0, 1.0),)) == pytest.approx(128 / 81)


def test_no_events_is_no_evidence() -> None:
    assert count_e_value([]) == 1.0
    assert count_e_value([EventSegment(0.01, 0, 0), EventSegment(0.1, 0, 0)]) == pytest.approx(1)


@given(SHARES, COUNTS, COUNTS)
def test_more_canary_events_mean_more_evidence(share: float, canary: int, stable: int) -> None:
    base = count_log_e_value([EventSegment(share, canary, stable)])
    assert count_log_e_value([EventSegment(share, canary + 1, stable)]) >= base
    assert count_log_e_value([EventSegment(share, canary, stable + 1)]) <= base
    assert count_log_e_value([EventSegment(share, canary, stable)], max_ratio=1.5) <= base


def test_a_canary_that_only_errors_crosses_within_a_handful_of_events() -> None:
    # 1 % share, stable erring 2 %: 5 canary requests, all errors, against ~10 stable errors.
    assert count_e_value([EventSegment(0.01, 5, 10)]) > 60  # 1 / (0.05 / 3)


def test_huge_counts_stay_finite() -> None:
    e = count_e_value([EventSegment(0.01, 10**7, 10)])
    assert math.isfinite(e)
    assert e > 1e300


def test_the_prior_is_a_proper_one_sided_mixture() -> None:
    assert math.fsum(w for _, w in COUNT_PRIOR) == pytest.approx(1.0)
    assert all(ratio > 1.0 for ratio, _ in COUNT_PRIOR)
    with pytest.raises(ValueError, match="prior"):
        count_log_e_value([], 1.0, ((0.9, 1.0),))
    with pytest.raises(ValueError, match="max_ratio"):
        count_log_e_value([], 0.0)


@pytest.mark.parametrize(("share", "canary"), [(0.0, 1), (1.0, 1), (0.1, -1)])
def test_segments_refuse_impossible_values(share: float, canary: int) -> None:
    with pytest.raises(ValueError, match=r"share|negative"):
        EventSegment(share, canary, 0)


def _count_rollout(rng: random.Random, psi: float, max_ratio: float = 1.0) -> int | None:
    """Events of a 1 % -> 10 % -> 50 % rollout under a load that swings 10x; first crossing."""
    bar = -math.log(0.05)
    done: list[EventSegment] = []
    for share, looks in ((0.01, 20), (0.1, 20), (0.5, 20)):
        canary = stable = 0
        p = event_probability(share, psi)
        for look in range(looks):
            events = rng.choice((3, 30)) if look % 5 else 60  # incidents come and go
            hits = _binomial(rng, events, p)
            canary, stable = canary + hits, stable + events - hits
            if count_log_e_value([*done, EventSegment(share, canary, stable)], max_ratio) >= bar:
                return len(done) * 20 + look
        done.append(EventSegment(share, canary, stable))
    return None


@pytest.mark.parametrize(("psi", "max_ratio"), [(1.0, 1.0), (0.5, 1.0), (1.5, 1.5)])
def test_looking_after_every_batch_keeps_false_alarms_under_alpha(
    psi: float, max_ratio: float
) -> None:
    rng = random.Random(20260115)
    runs = 400
    alarms = sum(_count_rollout(rng, psi, max_ratio) is not None for _ in range(runs))
    assert alarms / runs <= 0.05 + _monte_carlo_slack(0.05, runs)


def test_errors_from_2_to_5_percent_are_caught_within_a_few_hundred_canary_requests() -> None:
    rng = random.Random(7)
    bar, detected = -math.log(0.05 / 3), []
    for _ in range(100):
        canary = stable = 0
        for batch in range(1, 41):  # 50 canary and 4,950 stable requests per look, 1 % share
            canary += _binomial(rng, 50, 0.05)
            stable += sum(rng.random() < 0.02 for _ in range(4950))
            if count_log_e_value([EventSegment(0.01, canary, stable)]) >= bar:
                detected.append(batch * 50)
                break
    assert len(detected) >= 95
    assert 200 <= statistics.median(detected) <= 600


# --- the confidence sequence -----------------------------------------------------------


def test_mixture_scale_follows_the_published_formula() -> None:
    expected = (-2 * math.log(0.05) + math.log(1 - 2 * math.log(0.05))) / 100
    assert mixture_rho_squared(0.05, 100) == pytest.approx(expected)
    with pytest.raises(ValueError, match="alpha"):
        mixture_rho_squared(1.5, 100)


@pytest.mark.parametrize("n", [1, 30, 500, 10_000, 10**7])
def test_the_boundary_solves_the_one_sided_mixture(n: int) -> None:
    alpha, target = 0.05 / 3, 500
    z = boundary_z(alpha, n, target)
    r = mixture_rho_squared(alpha, target) * n
    u = z * math.sqrt(r / (1 + r))
    martingale = math.erfc(-u / math.sqrt(2)) * math.exp(u * u / 2) / math.sqrt(1 + r)
    assert martingale == pytest.approx(1 / alpha, rel=1e-9)
    assert z > 2.13  # wider than the fixed-sample one-sided z at alpha / 3


def test_the_boundary_is_tightest_near_the_target_and_widens_slowly() -> None:
    widths = {n: boundary_z(0.05, n, 500) / math.sqrt(n) for n in (50, 500, 5000)}
    assert widths[50] > widths[500] > widths[5000]
    assert boundary_z(0.05, 500, 500) < boundary_z(0.05, 50, 500)
    assert (
        boundary_z(0.05, 500, 500) < boundary_z(0.05, 500_000, 500) < 2 * boundary_z(0.05, 500, 500)
    )


def test_difference_of_means_uses_the_variance_of_the_difference() -> None:
    canary, stable = Moments.of([1.0, 2.0, 3.0]), Moments.of([1.0, 1.0, 1.0, 1.0])
    cs = mean_difference_cs(canary, stable, 0.05, 500)
    z = boundary_z(0.05, 3 * 4 / 7, 500)
    assert cs.estimate == pytest.approx(1.0)
    assert cs.radius == pytest.approx(z * math.sqrt(1.0 / 3 + 0.0))
    assert (cs.low, cs.high) == pytest.approx((1.0 - cs.radius, 1.0 + cs.radius))
    ratio = log_mean_ratio_cs(canary, stable, 0.05, 500)
    assert ratio.estimate == pytest.approx(math.log(2.0))
    assert normal_cs(0.5, 0.0, 10, 0.05, 500).radius == 0.0


def test_a_proportion_with_no_hits_still_has_spread() -> None:
    cs = proportion_difference_cs(0, 100, 0, 100, 0.05, 500)
    assert cs.estimate == 0.0
    assert cs.radius > 0.0


def _gaussian_aa_crosses(rng: random.Random, stable_per_canary: int) -> bool:
    """Canary mean == stable mean + 0.2 (the tolerance); looks after every 20 canary values."""
    canary, stable = Moments(), Moments()
    for _ in range(60):
        canary = canary.merge(Moments.of(rng.gauss(10.2, 2.0) for _ in range(20)))
        stable = stable.merge(
            Moments.of(rng.gauss(10.0, 1.0) for _ in range(20 * stable_per_canary))
        )
        if canary.n >= 100 and mean_difference_cs(canary, stable, 0.05, 500).low > 0.2:
            return True
    return False


@pytest.mark.parametrize("stable_per_canary", [1, 4])
def test_difference_of_means_stays_valid_at_the_tolerance(stable_per_canary: int) -> None:
    rng = random.Random(11)
    runs = 250
    alarms = sum(_gaussian_aa_crosses(rng, stable_per_canary) for _ in range(runs))
    assert alarms / runs <= 0.05 + _monte_carlo_slack(0.05, runs)


# --- quantiles by exceedance -----------------------------------------------------------


def test_empirical_quantile_uses_the_n_plus_one_position() -> None:
    values = [float(v) for v in range(1, 101)]
    assert empirical_quantile(values, 0.95) == 96.0  # ceil(0.95 * 101)
    assert empirical_quantile(values, 0.5) == 51.0
    assert empirical_quantile([1.0, 2.0], 0.99) == 2.0
    with pytest.raises(ValueError, match="no values"):
        empirical_quantile([], 0.5)


def test_a_canary_half_again_slower_is_harm_and_an_identical_one_is_not() -> None:
    rng = random.Random(3)
    stable = sorted(800 * (0.9 + 0.2 * rng.random()) for _ in range(300))
    same = sorted(800 * (0.9 + 0.2 * rng.random()) for _ in range(300))
    slow = sorted(1.5 * x for x in same)
    verdict = compare_quantiles(slow, stable, 0.95, 0.05 / 3, 500, ratio=1.2)
    assert verdict.harm
    assert verdict.canary_low > verdict.threshold == pytest.approx(1.2 * verdict.stable_quantile)
    assert not compare_quantiles(same, stable, 0.95, 0.05 / 3, 500, ratio=1.2).harm
    shifted = compare_quantiles(slow, stable, 0.95, 0.05 / 3, 500, increase=50.0)
    assert shifted.harm
    assert shifted.threshold == pytest.approx(shifted.stable_quantile + 50.0)


@given(
    st.lists(st.integers(0, 50), min_size=1, max_size=60),
    st.lists(st.integers(0, 50), min_size=1, max_size=60),
    st.sampled_from([0.5, 0.95]),
)
def test_harm_is_exactly_the_lower_bound_above_the_threshold(
    canary: list[int], stable: list[int], q: float
) -> None:
    result = compare_quantiles(
        sorted(map(float, canary)), sorted(map(float, stable)), q, 0.05, 100, ratio=1.2
    )
    above = sum(x > result.threshold for x in canary)
    assert result.harm == (above / len(canary) - (1 - q) > result.excess.radius)
    assert result.harm == (result.excess.low > 0)
    assert result.canary_low <= result.canary_quantile <= result.canary_high


def _p95_rollout_alarms(rng: random.Random) -> bool:
    """Canary p95 exactly 1.2x stable's (a lognormal scaled by 1.2); looks every 50 values."""
    canary: list[float] = []
    stable: list[float] = []
    while len(canary) < 800:
        canary += [1.2 * math.exp(rng.gauss(6.5, 0.6)) for _ in range(50)]
        stable += [math.exp(rng.gauss(6.5, 0.6)) for _ in range(50)]
        if len(canary) >= 200:
            result = compare_quantiles(sorted(canary), sorted(stable), 0.95, 0.05, 500, ratio=1.2)
            if result.harm:
                return True
    return False


def test_the_p95_exceedance_test_stays_valid_at_the_tolerance() -> None:
    rng = random.Random(95)
    runs = 250
    alarms = sum(_p95_rollout_alarms(rng) for _ in range(runs))
    assert alarms / runs <= 0.05 + _monte_carlo_slack(0.05, runs)
