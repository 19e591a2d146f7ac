"""The audit log as the use cases write it: one entry per write, none per refusal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

import pytest

from turnout.domain.access import LOCAL_ADMIN, Principal, Role
from turnout.errors import TurnoutError
from turnout.services.registry import Registry
from turnout.store import SqlStore


class FakeClock(Protocol):
    """The settable clock of ``tests/conftest.py``."""

    now: datetime

    def __call__(self) -> datetime: ...

    def advance(self, seconds: float = 1.0) -> datetime: ...


OPERATOR = Principal("olga", Role.OPERATOR)
DEPLOYER = Principal("dee", Role.DEPLOYER)
VIEWER = Principal("vic", Role.VIEWER)
V1, V2 = "sim/chat-001", "sim/chat-002"

Write = Callable[[Registry], object]

WRITES: list[tuple[str, Write, str, str]] = [
    ("add", lambda r: r.versions.add(OPERATOR, V1), "version.add", V1),
    ("add-2", lambda r: r.versions.add(OPERATOR, V2), "version.add", V2),
    (
        "issue",
        lambda r: r.versions.add_known_issue(OPERATOR, V1, "slow"),
        "version.known_issue",
        V1,
    ),
    ("create", lambda r: r.aliases.set(OPERATOR, "prod-chat", V1), "alias.create", "prod-chat"),
    ("set", lambda r: r.aliases.set(OPERATOR, "prod-chat", V2), "alias.set", "prod-chat"),
    (
        "rollback",
        lambda r: r.aliases.rollback(OPERATOR, "prod-chat"),
        "alias.rollback",
        "prod-chat",
    ),
    (
        "protect",
        lambda r: r.aliases.protect(DEPLOYER, "prod-chat", True, reason="prod"),
        "alias.protect",
        "prod-chat",
    ),
    (
        "unprotect",
        lambda r: r.aliases.protect(LOCAL_ADMIN, "prod-chat", False, reason="lift"),
        "alias.unprotect",
        "prod-chat",
    ),
    ("token", lambda r: r.tokens.create(LOCAL_ADMIN, "ci", Role.VIEWER), "token.create", "ci"),
    ("revoke", lambda r: r.tokens.revoke(LOCAL_ADMIN, "ci"), "token.revoke", "ci"),
]


def test_every_write_appends_exactly_one_entry(
    registry: Registry, store: SqlStore, clock: FakeClock, audit_count: Callable[[], int]
) -> None:
    for seq, (_, write, action, subject) in enumerate(WRITES, start=1):
        at = clock.advance(10)
        marker = store.change_marker()
        write(registry)
        assert audit_count() == seq
        assert store.change_marker() == marker + 1
        newest = registry.audit.entries(VIEWER, limit=1)[0]
        assert (newest.seq, newest.action, newest.subject, newest.at) == (seq, action, subject, at)
    assert registry.audit.verify(VIEWER) == (len(WRITES), None)


def test_entries_record_the_actor_and_detail(registry: Registry) -> None:
    registry.versions.add(OPERATOR, V1, params={"latency_ms": 20}, prompt_version="p@2")
    registry.versions.add(OPERATOR, V2)
    registry.aliases.set(OPERATOR, "prod-chat", V1, fallbacks=[V2], reason="launch")
    registry.aliases.set(OPERATOR, "prod-chat", V2, fallbacks=[])
    issued = registry.tokens.create(LOCAL_ADMIN, "ci", Role.OPERATOR)
    as_token = registry.tokens.authenticate(issued.secret)
    registry.aliases.rollback(as_token, "prod-chat", reason="regression")

    newest, flip, create = registry.audit.entries(VIEWER, subject="prod-chat")
    assert newest.actor == "token:ci"
    assert newest.detail == {
        "revision": 3,
        "before": "sim/chat-002",
        "after": "sim/chat-001 (fallbacks: sim/chat-002)",
        "protected": False,
        "reason": "regression",
        "restored_from": 1,
    }
    assert (flip.detail["revision"], flip.detail["after"]) == (2, "sim/chat-002")
    assert (create.actor, create.detail["before"], create.detail["reason"]) == (
        "olga",
        None,
        "launch",
    )
    (added,) = registry.audit.entries(VIEWER, subject=V1)
    assert added.detail == {
        "params": {"latency_ms": 20},
        "prompt_version": "p@2",
        "dataset_version": None,
        "floating_allowed": False,
    }
    (token_entry,) = registry.audit.entries(VIEWER, subject="ci")
    assert token_entry.detail == {"id": issued.token.id, "role": "operator", "expires_at": None}


def test_entries_are_newest_first_with_limit_and_subject(registry: Registry) -> None:
    for i in range(1, 6):
        registry.versions.add(LOCAL_ADMIN, f"sim/chat-00{i}")
    assert [e.seq for e in registry.audit.entries(VIEWER)] == [5, 4, 3, 2, 1]
    assert [e.seq for e in registry.audit.entries(VIEWER, limit=2)] == [5, 4]
    assert [e.seq for e in registry.audit.entries(VIEWER, limit=None)] == [5, 4, 3, 2, 1]
    assert [e.seq for e in registry.audit.entries(VIEWER, subject="sim/chat-003")] == [3]
    assert registry.audit.entries(VIEWER, subject="nothing") == []


def _seed(registry: Registry) -> None:
    registry.versions.add(LOCAL_ADMIN, V1)
    registry.versions.add(LOCAL_ADMIN, V2)
    registry.versions.add(LOCAL_ADMIN, "openai/gpt-4o", allow_floating=True)
    registry.aliases.set(DEPLOYER, "prod-chat", V1, protected=True, reason="launch")
    registry.tokens.create(LOCAL_ADMIN, "ci", Role.VIEWER)


REFUSED: list[tuple[str, Write]] = [
    ("floating", lambda r: r.versions.add(LOCAL_ADMIN, "openai/gpt-4o-mini")),
    ("unknown-provider", lambda r: r.versions.add(LOCAL_ADMIN, "acme/chat-001")),
    ("retired", lambda r: r.versions.add(LOCAL_ADMIN, "openai/gpt-4-32k-0613")),
    ("duplicate-version", lambda r: r.versions.add(LOCAL_ADMIN, V1)),
    ("viewer-add", lambda r: r.versions.add(VIEWER, "sim/chat-009")),
    ("issue-unknown", lambda r: r.versions.add_known_issue(LOCAL_ADMIN, "sim/chat-404", "x")),
    ("issue-empty", lambda r: r.versions.add_known_issue(LOCAL_ADMIN, V1, " ")),
    (
        "stale-revision",
        lambda r: r.aliases.set(LOCAL_ADMIN, "prod-chat", V2, reason="x", expected_revision=0),
    ),
    ("operator-on-protected", lambda r: r.aliases.set(OPERATOR, "prod-chat", V2, reason="x")),
    ("no-reason", lambda r: r.aliases.set(DEPLOYER, "prod-chat", V2)),
    (
        "floating-on-protected",
        lambda r: r.aliases.set(
            LOCAL_ADMIN, "prod-chat", "openai/gpt-4o", reason="x", allow_floating=True
        ),
    ),
    ("unregistered-target", lambda r: r.aliases.set(LOCAL_ADMIN, "other", "sim/chat-404")),
    ("bad-alias-name", lambda r: r.aliases.set(LOCAL_ADMIN, "Bad Name", V1)),
    ("rollback-nothing", lambda r: r.aliases.rollback(LOCAL_ADMIN, "prod-chat", reason="x")),
    ("rollback-unknown", lambda r: r.aliases.rollback(LOCAL_ADMIN, "nope")),
    ("protect-unknown", lambda r: r.aliases.protect(LOCAL_ADMIN, "nope", True, reason="x")),
    ("unprotect-deployer", lambda r: r.aliases.protect(DEPLOYER, "prod-chat", False, reason="x")),
    ("duplicate-token", lambda r: r.tokens.create(LOCAL_ADMIN, "ci", Role.ADMIN)),
    ("viewer-token", lambda r: r.tokens.create(VIEWER, "mine", Role.ADMIN)),
    ("revoke-unknown", lambda r: r.tokens.revoke(LOCAL_ADMIN, "nobody")),
]


def test_nothing_is_appended_when_a_write_is_refused(
    registry: Registry, store: SqlStore, audit_count: Callable[[], int]
) -> None:
    _seed(registry)
    before = (audit_count(), store.change_marker(), registry.audit.verify(VIEWER))
    assert before == (5, 5, (5, None))
    for label, write in REFUSED:  # each refusal leaves the state the next one starts from
        with pytest.raises(TurnoutError):
            write(registry)
        after = (audit_count(), store.change_marker(), registry.audit.verify(VIEWER))
        assert after == before, label


def test_an_unchanged_write_appends_nothing(
    registry: Registry, audit_count: Callable[[], int]
) -> None:
    _seed(registry)
    before = audit_count()
    assert registry.aliases.set(DEPLOYER, "prod-chat", V1, reason="again").changed is False
    assert registry.aliases.protect(DEPLOYER, "prod-chat", True, reason="again").changed is False
    assert audit_count() == before


def test_verify_reports_the_count_and_no_break(registry: Registry, clock: FakeClock) -> None:
    assert registry.audit.verify(VIEWER) == (0, None)
    _seed(registry)
    clock.advance(timedelta(days=3).total_seconds())
    registry.aliases.set(DEPLOYER, "prod-chat", V2, reason="release")
    assert registry.audit.verify(VIEWER) == (6, None)
