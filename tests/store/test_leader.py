"""One rollout controller at a time: the PostgreSQL advisory lock and the SQLite lease."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import FakeClock

from turnout.store import SqlStore
from turnout.store.leader import LeaseLock, PgAdvisoryLock, leader_lock


def test_only_one_holder_at_a_time_and_release_hands_over(
    store: SqlStore, clock: FakeClock
) -> None:
    first = leader_lock(store.engine, "host-a:1", clock)
    second = leader_lock(store.engine, "host-b:2", clock)
    assert first.acquire()
    assert first.acquire()  # keeping it is idempotent
    assert not second.acquire()
    first.release()
    assert second.acquire()
    assert not first.acquire()
    second.release()


def test_the_right_lock_for_each_database(store: SqlStore, clock: FakeClock) -> None:
    lock = leader_lock(store.engine, "me", clock)
    expected = PgAdvisoryLock if store.engine.dialect.name == "postgresql" else LeaseLock
    assert isinstance(lock, expected)


def test_a_lease_whose_holder_went_silent_is_taken_over(tmp_path: Path, clock: FakeClock) -> None:
    from turnout.store import open_store

    store = open_store(f"sqlite:///{tmp_path}/lease.db")
    try:
        crashed = LeaseLock(store.engine, "crashed:1", clock)
        waiting = LeaseLock(store.engine, "waiting:2", clock)
        assert crashed.acquire()
        clock.advance(10)
        assert not waiting.acquire()  # still within the 15 s lease
        clock.advance(6)
        assert waiting.acquire()  # expired: taken over
        assert not crashed.acquire()  # and the old holder knows it lost it
    finally:
        store.close()


@pytest.mark.postgres
def test_the_advisory_lock_dies_with_its_connection(pg_database: str, clock: FakeClock) -> None:
    from turnout.store import open_store

    store_a, store_b = open_store(pg_database), open_store(pg_database)
    try:
        holder = PgAdvisoryLock(store_a.engine)
        other = PgAdvisoryLock(store_b.engine)
        assert holder.acquire()
        assert not other.acquire()
        store_a.engine.dispose()  # the holder's process is gone: its session ends
        holder._drop()
        assert other.acquire()
        other.release()
    finally:
        store_a.close()
        store_b.close()
