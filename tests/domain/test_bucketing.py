"""Sticky buckets: uniform, stable, and a monotone ramp."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from turnout.domain.bucketing import BUCKETS, bucket, in_canary

_KEYS = st.text(min_size=1, max_size=40)
_SALTS = st.text(alphabet="0123456789abcdef", min_size=4, max_size=16)


@given(_SALTS, _KEYS)
def test_a_key_always_lands_in_the_same_bucket(salt: str, key: str) -> None:
    assert 0 <= bucket(salt, key) < BUCKETS
    assert bucket(salt, key) == bucket(salt, key)


@given(_SALTS, _KEYS, st.integers(0, BUCKETS), st.integers(0, BUCKETS))
def test_the_ramp_is_monotone(salt: str, key: str, low: int, high: int) -> None:
    low, high = min(low, high), max(low, high)
    if in_canary(bucket(salt, key), low):
        assert in_canary(bucket(salt, key), high)


def test_buckets_are_uniform() -> None:
    counts = [0] * 10
    n = 50_000
    for i in range(n):
        counts[bucket("salt", f"user-{i}") * 10 // BUCKETS] += 1
    expected = n / 10
    chi2 = sum((c - expected) ** 2 / expected for c in counts)
    assert chi2 < 27.9  # 9 degrees of freedom, p = 0.001


def test_salts_pick_different_keys() -> None:
    keys = [f"user-{i}" for i in range(2_000)]
    first = {k for k in keys if in_canary(bucket("aaaa", k), 1000)}
    second = {k for k in keys if in_canary(bucket("bbbb", k), 1000)}
    assert first
    assert second
    assert len(first & second) < len(first) / 2  # ~10 % overlap expected, not ~100 %
