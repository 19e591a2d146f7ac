"""The request log writer: bounded, batched, off the hot path.

The gateway calls :meth:`RequestLogWriter.submit` for every request; that is a
deque append and never blocks or fails. A background task hands batches to the
sink (a store write, in a worker thread). When the queue is full — the store is
slow or down for long — new records are dropped and *counted*, so memory stays
bounded and the loss is visible in ``/metrics`` instead of silent.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from turnout.domain.requests import RequestRecord
from turnout.errors import TurnoutError

__all__ = ["BatchWriter", "RequestLogWriter", "RequestSink"]

T = TypeVar("T")

log = logging.getLogger(__name__)

RequestSink = Callable[[Sequence[RequestRecord]], None]
"""Writes one batch durably (blocking; run in a thread). Raises on failure."""


class BatchWriter(Generic[T]):
    """Queue items on the event loop; write them in batches from a worker thread.

    Used for the request log and for shadow pairs: both are produced on the hot
    path, must never block it, and may be lost only visibly (``dropped``).
    """

    def __init__(
        self,
        sink: Callable[[Sequence[T]], None],
        capacity: int = 50_000,
        batch_size: int = 2_000,
        interval: float = 0.25,
        name: str = "request log",
    ) -> None:
        if capacity < 1 or batch_size < 1 or interval <= 0:
            raise ValueError("capacity, batch_size and interval must be positive")
        self._sink = sink
        self._capacity = capacity
        self._batch_size = batch_size
        self._interval = interval
        self._name = name
        self._queue: deque[T] = deque()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        self.written = 0
        self.failed_batches = 0
        self.last_error: str | None = None

    @property
    def pending(self) -> int:
        return len(self._queue)

    def submit(self, record: T) -> None:
        """Queue one record; O(1), never blocks, never raises."""
        if len(self._queue) >= self._capacity:
            self.dropped += 1
            return
        self._queue.append(record)

    def start(self) -> None:
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), name=self._name.replace(" ", "-"))

    async def stop(self) -> None:
        """Stop the loop, then write what is queued (best effort, bounded by the sink)."""
        if self._task is not None:
            task, self._task = self._task, None
            while not task.done():  # cancel again if a cancel was ever lost
                task.cancel()
                await asyncio.wait({task}, timeout=1.0)
        while self._queue and await self.flush():
            pass

    async def flush(self) -> bool:
        """Write one batch; return whether it succeeded (records stay queued if not)."""
        if not self._queue:
            return True
        batch = [self._queue.popleft() for _ in range(min(self._batch_size, len(self._queue)))]
        try:
            await asyncio.to_thread(self._sink, batch)
        except Exception as exc:  # the store's errors, and anything a sink lets through
            self._requeue(batch)
            self.failed_batches += 1
            reason = exc.message if isinstance(exc, TurnoutError) else repr(exc)
            if self.last_error is None:
                log.warning(
                    "%s write failed, keeping %d records: %s", self._name, len(batch), reason
                )
            self.last_error = reason
            return False
        self.written += len(batch)
        self.last_error = None
        return True

    def _requeue(self, batch: list[T]) -> None:
        room = self._capacity - len(self._queue)
        keep = batch[:room] if room > 0 else []
        self.dropped += len(batch) - len(keep)
        self._queue.extendleft(reversed(keep))

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            while len(self._queue) and await self.flush():
                if len(self._queue) < self._batch_size:
                    break


RequestLogWriter = BatchWriter[RequestRecord]
"""The gateway's request log: a :class:`BatchWriter` of :class:`RequestRecord`."""
