"""Faults the store must survive or report: a locked SQLite file, a tampered audit log."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from turnout.domain.access import LOCAL_ADMIN, Role
from turnout.domain.audit import entry_hash
from turnout.errors import StoreUnavailable
from turnout.services.registry import Registry
from turnout.store import SqlStore, open_store
from turnout.store import engine as engine_module
from turnout.store.schema import audit_log
from turnout.wiring import open_registry

# --- a locked SQLite database -----------------------------------------------------------


@contextmanager
def _sqlite_write_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's writer: a plain sqlite3 connection inside ``BEGIN IMMEDIATE``."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield holder
    finally:
        holder.close()


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    path = tmp_path / "locked.db"
    open_store(f"sqlite:///{path}").close()  # created and migrated, nothing held
    return path


def test_write_on_a_locked_sqlite_fails_after_the_busy_timeout(
    sqlite_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # build_engine reads the busy timeout when it builds the engine; shrink it so the
    # test does not wait the production 10 s (there is no public knob for it yet).
    monkeypatch.setattr(engine_module, "_SQLITE_BUSY_TIMEOUT_S", 0.2)
    registry = open_registry(f"sqlite:///{sqlite_path}")
    try:
        with _sqlite_write_lock(sqlite_path):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match="locked"):
                registry.versions.add(LOCAL_ADMIN, "sim/chat-001")
            elapsed = time.monotonic() - started
            # Reads are not blocked by a writer under WAL.
            assert registry.versions.all() == []
        assert 0.15 <= elapsed < 3.0
        # Once the lock is gone the same store writes normally.
        registry.versions.add(LOCAL_ADMIN, "sim/chat-001")
        assert [str(v.id) for v in registry.versions.all()] == ["sim/chat-001"]
    finally:
        registry.close()


def test_write_waits_for_a_short_lock_instead_of_failing(sqlite_path: Path) -> None:
    registry = open_registry(f"sqlite:///{sqlite_path}")
    locked = threading.Event()
    errors: list[BaseException] = []

    def hold_lock_briefly() -> None:
        try:
            with _sqlite_write_lock(sqlite_path):
                locked.set()
                time.sleep(0.5)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)
            locked.set()

    holder = threading.Thread(target=hold_lock_briefly)
    holder.start()
    try:
        assert locked.wait(5)
        started = time.monotonic()
        registry.tokens.create(LOCAL_ADMIN, "ci", Role.VIEWER)
        elapsed = time.monotonic() - started
    finally:
        holder.join(5)
        registry.close()
    assert errors == []
    assert elapsed >= 0.3  # it really waited for the other writer
    reopened = open_store(f"sqlite:///{sqlite_path}")
    try:
        with reopened.unit_of_work() as uow:
            assert [t.name for t in uow.tokens.all()] == ["ci"]
            assert [e.action for e in uow.audit.entries()] == ["token.create"]
    finally:
        reopened.close()


# --- tampering with the audit log, end to end --------------------------------------------


def _alter_detail(store: SqlStore, seq: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            update(audit_log).where(audit_log.c.seq == seq).values(detail={"forged": True})
        )


def _rehash_after_altering(store: SqlStore, seq: int) -> None:
    """A smarter forger: alter a row and recompute its own hash (the next link breaks)."""
    with store.engine.begin() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.seq == seq)).one()
        detail = {"forged": True}
        digest = entry_hash(seq, row.at, row.actor, row.action, row.subject, detail, row.prev_hash)
        conn.execute(
            update(audit_log).where(audit_log.c.seq == seq).values(detail=detail, hash=digest)
        )


def _delete(store: SqlStore, seq: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == seq))


def _delete_newest(store: SqlStore, seq: int) -> None:
    with store.engine.begin() as conn:
        newest = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq.desc())).scalar()
        conn.execute(delete(audit_log).where(audit_log.c.seq == newest))


Tamper = Callable[[SqlStore, int], None]


@pytest.mark.parametrize(
    ("tamper", "seq", "first_bad", "reason"),
    [
        (_alter_detail, 3, 3, "altered"),
        (_alter_detail, 1, 1, "altered"),
        (_rehash_after_altering, 3, 4, "prev_hash"),
        (_delete, 4, 4, "missing"),
        (_delete, 1, 1, "missing"),
        (_delete_newest, 0, 6, "removed"),
    ],
    ids=[
        "alter-middle",
        "alter-first",
        "rehash-middle",
        "delete-middle",
        "delete-first",
        "delete-newest",
    ],
)
def test_tampering_is_reported_at_the_first_bad_entry(
    registry: Registry, store: SqlStore, tamper: Tamper, seq: int, first_bad: int, reason: str
) -> None:
    registry.versions.add(LOCAL_ADMIN, "sim/chat-001")
    registry.versions.add(LOCAL_ADMIN, "sim/chat-002")
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", "sim/chat-001")
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", "sim/chat-002")
    registry.tokens.create(LOCAL_ADMIN, "ci", Role.OPERATOR)
    registry.aliases.rollback(LOCAL_ADMIN, "prod-chat")
    assert registry.audit.verify(LOCAL_ADMIN) == (6, None)

    tamper(store, seq)

    claimed, brk = registry.audit.verify(LOCAL_ADMIN)
    assert claimed == 6
    assert brk is not None
    assert brk.seq == first_bad
    assert reason in brk.reason


def test_tampering_twice_reports_the_earliest_break(registry: Registry, store: SqlStore) -> None:
    for i in range(1, 6):
        registry.versions.add(LOCAL_ADMIN, f"sim/chat-00{i}")
    _delete_newest(store, 0)
    _delete(store, 3)
    _alter_detail(store, 2)
    _, brk = registry.audit.verify(LOCAL_ADMIN)
    assert brk is not None
    assert (brk.seq, "altered" in brk.reason) == (2, True)
