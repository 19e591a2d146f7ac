"""The hash-chained audit log: an intact chain verifies, each kind of tampering is located."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    ChainBreak,
    JsonValue,
    entry_hash,
    verify_chain,
)

T0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def _chain(n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        at = T0 + timedelta(seconds=seq)
        detail: dict[str, JsonValue] = {"to": f"openai/gpt-4o-2024-11-2{seq % 10}", "n": seq}
        digest = entry_hash(seq, at, "ana", "alias.set", "prod-chat", detail, prev)
        entries.append(AuditEntry(seq, at, "ana", "alias.set", "prod-chat", detail, prev, digest))
        prev = digest
    return entries


def _head(entries: list[AuditEntry]) -> tuple[int, str]:
    return (entries[-1].seq, entries[-1].hash)


def _rehash(entry: AuditEntry, prev_hash: str) -> AuditEntry:
    """What a careful tamperer does: fix up this entry's own hash after editing it."""
    digest = entry_hash(
        entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.detail, prev_hash
    )
    return replace(entry, prev_hash=prev_hash, hash=digest)


def test_intact_chain_verifies() -> None:
    entries = _chain(5)
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(entries))
    assert verify_chain(entries, _head(entries)) is None


def test_empty_log_verifies_only_without_a_head() -> None:
    assert verify_chain([], None) is None
    assert verify_chain([], (0, GENESIS_HASH)) is None
    assert verify_chain([], (2, "f" * 64)) == ChainBreak(1, "entries 1..2 were removed")


def test_entries_without_a_head_are_reported() -> None:
    assert verify_chain(_chain(2), None) == ChainBreak(
        1, "entries exist but the chain head is missing"
    )


def test_entry_hash_is_canonical_and_sensitive_to_every_field() -> None:
    args = (3, T0, "ana", "alias.set", "prod", {"a": 1, "b": [1, 2]}, GENESIS_HASH)
    base = entry_hash(*args)
    assert len(base) == 64
    assert (
        entry_hash(3, T0, "ana", "alias.set", "prod", {"b": [1, 2], "a": 1}, GENESIS_HASH) == base
    )
    variants = [
        (4, T0, "ana", "alias.set", "prod", {"a": 1, "b": [1, 2]}, GENESIS_HASH),
        (
            3,
            T0 + timedelta(microseconds=1),
            "ana",
            "alias.set",
            "prod",
            {"a": 1, "b": [1, 2]},
            GENESIS_HASH,
        ),
        (3, T0, "bo", "alias.set", "prod", {"a": 1, "b": [1, 2]}, GENESIS_HASH),
        (3, T0, "ana", "alias.rollback", "prod", {"a": 1, "b": [1, 2]}, GENESIS_HASH),
        (3, T0, "ana", "alias.set", "dev", {"a": 1, "b": [1, 2]}, GENESIS_HASH),
        (3, T0, "ana", "alias.set", "prod", {"a": 1, "b": [2, 1]}, GENESIS_HASH),
        (3, T0, "ana", "alias.set", "prod", {"a": 1, "b": [1, 2]}, "1" * 64),
    ]
    hashes = {entry_hash(*variant) for variant in variants}
    assert base not in hashes
    assert len(hashes) == len(variants)


ALTERATIONS: dict[str, Callable[[AuditEntry], AuditEntry]] = {
    "actor": lambda e: replace(e, actor="mallory"),
    "action": lambda e: replace(e, action="alias.rollback"),
    "subject": lambda e: replace(e, subject="dev-chat"),
    "detail": lambda e: replace(e, detail={**e.detail, "to": "openai/gpt-4.1-2025-04-14"}),
    "at": lambda e: replace(e, at=e.at + timedelta(microseconds=1)),
    "hash": lambda e: replace(e, hash="0" * 64),
}


@pytest.mark.parametrize("field", sorted(ALTERATIONS))
def test_altered_field_is_reported_at_its_entry(field: str) -> None:
    entries = _chain(5)
    entries[2] = ALTERATIONS[field](entries[2])
    assert verify_chain(entries, _head(entries)) == ChainBreak(
        3, "contents were altered (hash mismatch)"
    )


def test_rehashed_alteration_breaks_the_next_link() -> None:
    entries = _chain(5)
    entries[2] = _rehash(replace(entries[2], actor="mallory"), entries[1].hash)
    assert verify_chain(entries, _head(entries)) == ChainBreak(
        4, "prev_hash does not match the previous entry's hash"
    )


def test_deleted_middle_entry_is_reported() -> None:
    entries = _chain(5)
    del entries[2]
    assert verify_chain(entries, (5, _chain(5)[-1].hash)) == ChainBreak(3, "entry 3 is missing")


@pytest.mark.parametrize("kept", [0, 1, 3, 4])
def test_deleted_newest_entries_are_caught_by_the_head(kept: int) -> None:
    entries = _chain(5)
    head = _head(entries)
    assert verify_chain(entries[:kept], head) == ChainBreak(
        kept + 1, f"entries {kept + 1}..5 were removed"
    )


def test_head_that_does_not_match_the_newest_entry_is_reported() -> None:
    entries = _chain(5)
    assert verify_chain(entries, (5, "f" * 64)) == ChainBreak(
        5, "chain head does not match the newest entry"
    )
    assert verify_chain(entries, (4, entries[3].hash)) == ChainBreak(
        4, "chain head does not match the newest entry"
    )


def test_swapped_entries_are_reported_at_the_first_displaced_seq() -> None:
    entries = _chain(5)
    reordered = [entries[0], entries[2], entries[1], *entries[3:]]
    assert verify_chain(reordered, _head(entries)) == ChainBreak(2, "entry 2 is missing")
    renumbered = [
        entries[0],
        replace(entries[2], seq=2),
        replace(entries[1], seq=3),
        *entries[3:],
    ]
    assert verify_chain(renumbered, _head(entries)) == ChainBreak(
        2, "prev_hash does not match the previous entry's hash"
    )


@given(st.integers(1, 12), st.data())
def test_any_single_field_edit_is_located(n: int, data: st.DataObject) -> None:
    entries = _chain(n)
    index = data.draw(st.integers(0, n - 1))
    actor = data.draw(st.text(min_size=1).filter(lambda s: s != "ana"))
    entries[index] = replace(entries[index], actor=actor)
    broken = verify_chain(entries, _head(_chain(n)))
    assert broken is not None
    assert broken.seq == index + 1
