"""The append-only, hash-chained audit log.

Each entry's hash covers its own fields and the previous entry's hash, so altering
or deleting any stored row breaks the chain from that point on. The head (last
sequence number and hash) is stored apart from the rows, which also catches the
removal of the newest entries. This is tamper-*evidence* for a registry kept in a
database that operators can edit, not protection against an attacker who rewrites
every row and the head alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

__all__ = ["GENESIS_HASH", "AuditEntry", "ChainBreak", "entry_hash", "verify_chain"]

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry."""

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One write to the registry: who did what to which subject, and the chain link."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: Mapping[str, JsonValue]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first entry where the chain stops verifying, and why."""

    seq: int
    reason: str


def entry_hash(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    detail: Mapping[str, JsonValue],
    prev_hash: str,
) -> str:
    """SHA-256 over a canonical JSON encoding of the entry's fields and ``prev_hash``."""
    body = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, subject, detail, prev_hash],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def verify_chain(entries: Iterable[AuditEntry], head: tuple[int, str] | None) -> ChainBreak | None:
    """Walk ``entries`` in ``seq`` order; return the first break, or ``None`` if intact.

    ``head`` is the stored (last seq, last hash); ``None`` means an empty log.
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for entry in entries:
        if entry.seq != expected_seq:
            return ChainBreak(expected_seq, f"entry {expected_seq} is missing")
        if entry.prev_hash != expected_prev:
            return ChainBreak(entry.seq, "prev_hash does not match the previous entry's hash")
        recomputed = entry_hash(
            entry.seq,
            entry.at,
            entry.actor,
            entry.action,
            entry.subject,
            entry.detail,
            entry.prev_hash,
        )
        if recomputed != entry.hash:
            return ChainBreak(entry.seq, "contents were altered (hash mismatch)")
        expected_prev = entry.hash
        expected_seq += 1
    last_seq = expected_seq - 1
    if head is None:
        if last_seq != 0:
            return ChainBreak(1, "entries exist but the chain head is missing")
        return None
    head_seq, head_hash = head
    if head_seq > last_seq:
        return ChainBreak(last_seq + 1, f"entries {last_seq + 1}..{head_seq} were removed")
    if head_seq < last_seq or head_hash != expected_prev:
        return ChainBreak(head_seq, "chain head does not match the newest entry")
    return None
