"""A rollout's decision log: every transition, who made it, why, and what it did to the alias.

Two records already hold it, so nothing new is stored. The audit log has one
``rollout.*`` entry per transition (start, advance, approval, pause, resume,
stall, completion, abort, automatic rollback with the gates' evidence); the
alias history has a revision for each one that moved traffic (action
``rollout`` or ``auto_rollback``, its reason naming the rollout). A row is an
audit entry with the revision it wrote, matched by the rollout's message in the
revision's reason, so a pause shows no revision and a step shows which one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from turnout.domain.aliases import AliasAction, AliasRevision
from turnout.domain.audit import AuditEntry, JsonValue
from turnout.domain.rollouts import Rollout

__all__ = ["DecisionRow", "decision_log"]

_MOVES = (AliasAction.ROLLOUT, AliasAction.AUTO_ROLLBACK)


@dataclass(frozen=True, slots=True)
class DecisionRow:
    at: datetime
    actor: str
    action: str  # the transition: "start", "advance", "rollback", ...
    status: str  # the rollout's state after it
    canary_pct: float | None  # canary share after it (None: not recorded)
    message: str  # the revision's reason when one was written (it carries the operator's)
    revision: int | None  # the alias revision it wrote, when traffic moved
    evidence: tuple[tuple[str, str], ...]  # (verdict, summary) per gate, when recorded


def _evidence(detail: Mapping[str, JsonValue]) -> tuple[tuple[str, str], ...]:
    items = detail.get("evidence")
    if not isinstance(items, list):
        return ()
    return tuple(
        (str(item.get("verdict", "")), str(item.get("summary", "")))
        for item in items
        if isinstance(item, dict)
    )


def _of_rollout(revision: AliasRevision, rollout_id: int) -> bool:
    reason = revision.reason or ""
    return revision.action in _MOVES and (
        reason.startswith(f"rollout {rollout_id}:") or reason.startswith(f"rollout {rollout_id} ")
    )


def decision_log(
    rollout: Rollout, entries: Sequence[AuditEntry], revisions: Sequence[AliasRevision]
) -> tuple[DecisionRow, ...]:
    """The rollout's transitions, oldest first, from its alias's audit entries and history."""
    ours = sorted(
        (
            e
            for e in entries
            if e.action.startswith("rollout.") and e.detail.get("rollout") == rollout.id
        ),
        key=lambda e: e.seq,
    )
    unmatched = [r for r in revisions if _of_rollout(r, rollout.id)]
    rows = []
    for entry in ours:
        message = str(entry.detail.get("message", ""))
        found = next((r for r in unmatched if message and message in (r.reason or "")), None)
        if found is not None:
            unmatched.remove(found)
        reason = entry.detail.get("reason")
        if found is None and isinstance(reason, str) and reason:
            message = f"{message} ({reason})"  # no revision (pause, resume...) carries it
        weight = entry.detail.get("weight_pct")
        rows.append(
            DecisionRow(
                entry.at,
                entry.actor,
                entry.action.removeprefix("rollout."),
                str(entry.detail.get("status", "")),
                float(weight) if isinstance(weight, int | float) else None,
                (found.reason or message) if found is not None else message,
                found.revision if found is not None else None,
                _evidence(entry.detail),
            )
        )
    return tuple(rows)
