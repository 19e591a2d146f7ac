"""Writing the request log in multi-row batches, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from turnout.domain.requests import RequestRecord
from turnout.store.schema import request_log
from turnout.store.sql_store import SqlStore, chunk_sizes


@given(st.integers(min_value=0, max_value=5_000))
def test_chunks_cover_the_batch_with_few_distinct_shapes(rows: int) -> None:
    sizes = chunk_sizes(rows)
    assert sum(sizes) == rows
    assert all(size > 0 for size in sizes)
    assert set(sizes) <= {512, 256, 128, 64, 32, 16, 8, 4, 2, 1}


def _record(n: int) -> RequestRecord:
    return RequestRecord(
        request_id=f"req_{n:024x}",
        at=datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
        alias="prod-chat",
        version="sim/echo-2026-01-01",
        arm="stable",
        key_hash=None,
        status=200 if n % 7 else 502,
        error_class=None if n % 7 else "provider_error",
        latency_ms=float(n),
        ttft_ms=None,
        tokens_in=n,
        tokens_out=1,
        cost_usd=None,
        stream=bool(n % 2),
    )


@pytest.mark.parametrize("rows", [1, 3, 512, 1_337])
def test_every_record_of_a_batch_is_written_once(store: SqlStore, rows: int) -> None:
    store.log_requests([_record(n) for n in range(rows)])
    with store.engine.connect() as conn:
        written = conn.execute(select(request_log.c.request_id, request_log.c.tokens_in)).all()
        errors = conn.execute(select(func.count()).where(request_log.c.status == 502)).scalar_one()
    assert sorted(written) == [(f"req_{n:024x}", n) for n in range(rows)]
    assert errors == len([n for n in range(rows) if n % 7 == 0])
