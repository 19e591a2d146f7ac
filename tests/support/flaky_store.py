"""A registry store that can be switched off, for fail-static tests.

While ``down`` every call raises :class:`StoreUnavailable`, as the SQL store does
when its database is unreachable; ``calls`` counts the probes.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from turnout.domain.requests import RequestRecord
from turnout.domain.rollouts import Observation, Rollout
from turnout.errors import StoreUnavailable
from turnout.ports import RegistryStore, UnitOfWork

__all__ = ["FlakyStore"]


class FlakyStore:
    """A :class:`RegistryStore` in front of a real one."""

    def __init__(self, inner: RegistryStore) -> None:
        self.inner = inner
        self.url = inner.url
        self.down = False
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.down:
            raise StoreUnavailable(f"registry {self.url}: the database is unreachable (test)")

    def unit_of_work(self, write: bool = False) -> AbstractContextManager[UnitOfWork]:
        self._check()
        return self.inner.unit_of_work(write)

    def change_marker(self) -> int:
        self._check()
        return self.inner.change_marker()

    def log_requests(self, records: Sequence[RequestRecord]) -> None:
        self._check()
        self.inner.log_requests(records)

    def record_feedback(self, request_id: str, score: float, source: str, at: datetime) -> None:
        self._check()
        self.inner.record_feedback(request_id, score, source, at)

    def observe(self, rollout: Rollout, now: datetime) -> Observation:
        self._check()
        return self.inner.observe(rollout, now)

    def close(self) -> None:
        self.inner.close()
