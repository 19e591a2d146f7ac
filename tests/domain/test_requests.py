"""Request ids and cost estimates of the request log."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from turnout.domain.requests import estimate_cost, new_request_id

_NS_RANGE = st.integers(min_value=0, max_value=2**47 * 1_000_000)


def test_request_id_has_a_fixed_shape() -> None:
    rid = new_request_id(1_764_000_000_123_456_789, bytes.fromhex("00ff10203040"))
    assert re.fullmatch(r"req_[0-9a-f]{24}", rid)
    assert rid == "req_" + format(1_764_000_000_123, "012x") + "00ff10203040"


@given(_NS_RANGE, _NS_RANGE, st.binary(min_size=6, max_size=6), st.binary(min_size=6, max_size=6))
def test_request_ids_sort_by_the_millisecond_they_were_issued(
    a: int, b: int, entropy_a: bytes, entropy_b: bytes
) -> None:
    if a // 1_000_000 < b // 1_000_000:
        assert new_request_id(a, entropy_a) < new_request_id(b, entropy_b)


def test_cost_needs_both_counts_and_both_prices() -> None:
    assert estimate_cost(1_000_000, 500_000, 2.5, 10.0) == 2.5 + 5.0
    assert estimate_cost(None, 10, 2.5, 10.0) is None
    assert estimate_cost(10, 10, None, 10.0) is None
