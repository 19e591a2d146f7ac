"""Rollouts in SQL: rows to domain values and back, compare-and-set on ``seq``.

Every change to a rollout (a step, a pause, a rollback) is an UPDATE guarded by
the ``seq`` the writer read, so two controllers — or a controller and a person
pressing ``abort`` — can never both apply a decision to the same state.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from turnout.domain.ids import VersionId
from turnout.domain.rollouts import (
    Rollout,
    RolloutPlan,
    RolloutStatus,
    StepRecord,
)
from turnout.errors import Conflict
from turnout.store.schema import rollouts

__all__ = ["SqlRollouts", "rollout_from_row", "rollout_row"]

_ACTIVE = [status.value for status in RolloutStatus if status.active]


def rollout_row(rollout: Rollout) -> dict[str, Any]:
    return {
        "alias": rollout.alias,
        "stable": str(rollout.stable),
        "candidate": str(rollout.candidate),
        "salt": rollout.salt,
        "plan": rollout.plan.to_dict(),
        "status": rollout.status.value,
        "step": rollout.step,
        "steps_log": [record.to_dict() for record in rollout.steps_log],
        "started_at": rollout.started_at,
        "step_started_at": rollout.step_started_at,
        "updated_at": rollout.updated_at,
        "finished_at": rollout.finished_at,
        "actor": rollout.actor,
        "reason": rollout.reason,
        "evidence": [dict(item) for item in rollout.evidence],
        "seq": rollout.seq,
    }


def rollout_from_row(row: RowMapping) -> Rollout:
    evidence = row["evidence"] or []
    return Rollout(
        id=row["id"],
        alias=row["alias"],
        stable=VersionId.parse(row["stable"]),
        candidate=VersionId.parse(row["candidate"]),
        salt=row["salt"],
        plan=RolloutPlan.from_dict(row["plan"]),
        status=RolloutStatus(row["status"]),
        step=row["step"],
        started_at=row["started_at"],
        step_started_at=row["step_started_at"],
        updated_at=row["updated_at"],
        actor=row["actor"],
        reason=row["reason"],
        finished_at=row["finished_at"],
        steps_log=tuple(StepRecord.from_dict(item) for item in row["steps_log"]),
        evidence=tuple(evidence),
        seq=row["seq"],
    )


class SqlRollouts:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, rollout: Rollout) -> int:
        """Insert a new rollout; return its id."""
        result = self._conn.execute(insert(rollouts).values(rollout_row(rollout)))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def get(self, rollout_id: int) -> Rollout | None:
        row = self._conn.execute(select(rollouts).where(rollouts.c.id == rollout_id)).first()
        return rollout_from_row(row._mapping) if row else None

    def latest(self, alias: str) -> Rollout | None:
        row = self._conn.execute(
            select(rollouts).where(rollouts.c.alias == alias).order_by(rollouts.c.id.desc())
        ).first()
        return rollout_from_row(row._mapping) if row else None

    def active(self) -> list[Rollout]:
        result = self._conn.execute(
            select(rollouts).where(rollouts.c.status.in_(_ACTIVE)).order_by(rollouts.c.id)
        )
        return [rollout_from_row(row._mapping) for row in result]

    def history(self, alias: str | None = None, limit: int = 50) -> list[Rollout]:
        query = select(rollouts).order_by(rollouts.c.id.desc()).limit(limit)
        if alias is not None:
            query = query.where(rollouts.c.alias == alias)
        return [rollout_from_row(row._mapping) for row in self._conn.execute(query)]

    def update(self, rollout: Rollout, expected_seq: int) -> None:
        """Write ``rollout`` if the stored one is still at ``expected_seq``."""
        values = rollout_row(rollout)
        result = self._conn.execute(
            update(rollouts)
            .where(rollouts.c.id == rollout.id, rollouts.c.seq == expected_seq)
            .values(values)
        )
        if result.rowcount != 1:
            raise Conflict(
                f"rollout {rollout.id} on '{rollout.alias}' changed concurrently "
                f"(expected change {expected_seq}); re-read it and retry"
            )
