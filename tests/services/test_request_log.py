"""The request-log writer: never blocks the hot path, bounded, and loses nothing it can keep.

The sink is a plain function here (the store's ``log_requests`` in production),
made to fail and recover on cue. Batches run in a worker thread, so a sink that
"fails" by raising is exactly what a database outage looks like to the writer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import anyio
import pytest

from turnout.domain.requests import RequestRecord
from turnout.errors import StoreUnavailable
from turnout.services.request_log import RequestLogWriter

pytestmark = pytest.mark.anyio

DEADLINE_S = 10.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def record(n: int) -> RequestRecord:
    return RequestRecord(
        request_id=f"req_{n:04d}",
        at=datetime(2026, 1, 15, 9, 0, tzinfo=UTC),
        alias="prod-chat",
        version="sim/chat-001",
        arm="stable",
        key_hash=None,
        status=200,
        error_class=None,
        latency_ms=12.5,
        ttft_ms=None,
        tokens_in=9,
        tokens_out=5,
        cost_usd=None,
        stream=False,
    )


def ids(records: Sequence[RequestRecord]) -> list[str]:
    return [r.request_id for r in records]


class FlakySink:
    """Collects batches; raises StoreUnavailable while ``down`` (and counts the attempts)."""

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.attempts = 0
        self.written: list[RequestRecord] = []
        self.during_write: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def __call__(self, batch: Sequence[RequestRecord]) -> None:
        with self._lock:
            self.attempts += 1
        if self.during_write is not None:
            self.during_write()
        if self.down:
            raise StoreUnavailable("request log: the database is unreachable (test)")
        with self._lock:
            self.written.extend(batch)


async def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await anyio.sleep(0.005)


@pytest.mark.parametrize(
    ("capacity", "batch_size", "interval"), [(0, 1, 1.0), (1, 0, 1.0), (1, 1, 0.0)]
)
def test_bad_settings_are_refused(capacity: int, batch_size: int, interval: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        RequestLogWriter(FlakySink(), capacity, batch_size, interval)


def test_submit_never_blocks_or_raises_when_full() -> None:
    sink = FlakySink(down=True)
    writer = RequestLogWriter(sink, capacity=3)
    for n in range(10):
        writer.submit(record(n))  # no event loop needed, no exception

    assert writer.pending == 3
    assert writer.dropped == 7
    assert sink.attempts == 0  # submit never touches the sink


async def test_a_failed_batch_stays_queued_and_is_written_after_recovery() -> None:
    sink = FlakySink(down=True)
    writer = RequestLogWriter(sink, capacity=3, batch_size=2)
    for n in range(5):
        writer.submit(record(n))

    assert await writer.flush() is False
    assert writer.pending == 3  # the failed batch went back to the front
    assert writer.failed_batches == 1
    assert writer.last_error is not None
    assert "unreachable" in writer.last_error
    assert writer.written == 0

    sink.down = False
    assert await writer.flush() is True
    assert await writer.flush() is True
    assert ids(sink.written) == ["req_0000", "req_0001", "req_0002"]  # in order, none twice
    assert writer.written == 3
    assert writer.pending == 0
    assert writer.dropped == 2
    assert writer.last_error is None


async def test_records_submitted_during_a_failed_write_are_bounded() -> None:
    """A requeued batch never pushes the queue past its capacity: the overflow is counted."""
    sink = FlakySink(down=True)
    writer = RequestLogWriter(sink, capacity=4, batch_size=2)
    for n in range(4):
        writer.submit(record(n))

    # While the batch [0, 1] is being written, traffic refills the queue to capacity.
    def traffic() -> None:
        writer.submit(record(10))
        writer.submit(record(11))

    sink.during_write = traffic

    assert await writer.flush() is False
    assert writer.pending == 4
    assert writer.dropped == 2  # the requeued batch did not fit

    sink.down, sink.during_write = False, None
    while writer.pending:
        assert await writer.flush() is True
    assert sorted(ids(sink.written)) == ["req_0002", "req_0003", "req_0010", "req_0011"]


async def test_the_background_loop_retries_until_the_sink_recovers() -> None:
    sink = FlakySink(down=True)
    writer = RequestLogWriter(sink, capacity=100, batch_size=10, interval=0.01)
    writer.start()
    try:
        for n in range(25):
            writer.submit(record(n))
        await wait_for(lambda: sink.attempts >= 3, "a few failed attempts")
        assert writer.pending == 25
        assert writer.last_error is not None

        sink.down = False
        await wait_for(lambda: writer.written == 25, "the queue to drain")
        assert writer.pending == 0
        assert ids(sink.written) == [f"req_{n:04d}" for n in range(25)]
        assert writer.last_error is None
        assert writer.dropped == 0
    finally:
        await writer.stop()


async def test_stop_writes_what_is_queued() -> None:
    sink = FlakySink()
    writer = RequestLogWriter(sink, batch_size=2, interval=60.0)
    writer.start()
    for n in range(5):
        writer.submit(record(n))
    await writer.stop()
    assert ids(sink.written) == [f"req_{n:04d}" for n in range(5)]
    assert writer.pending == 0


async def test_stop_gives_up_on_a_dead_sink() -> None:
    sink = FlakySink(down=True)
    writer = RequestLogWriter(sink, interval=60.0)
    writer.start()
    writer.submit(record(1))
    with anyio.fail_after(DEADLINE_S):
        await writer.stop()  # one attempt, then it returns: shutdown is never held hostage
    assert writer.pending == 1
    assert sink.attempts == 1
