"""JSON shapes of domain values: one encoding for the API, ``--json`` and the SDK.

The admin API sends these dicts, the HTTP client decodes them back into the same
domain values the local client returns, and ``--json`` prints them; keeping the
pairs side by side here means the three cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, cast

from turnout.domain.access import ApiToken, Role
from turnout.domain.aliases import Alias, AliasAction, AliasRevision, AliasTarget
from turnout.domain.audit import AuditEntry, ChainBreak, JsonValue
from turnout.domain.gates import GateResult, Metric, Verdict
from turnout.domain.ids import VersionId
from turnout.domain.plan import Plan
from turnout.domain.rollouts import Rollout, RolloutPlan, RolloutStatus, StepRecord
from turnout.domain.versions import KnownIssue, ParamValue, Version, VersionStatus
from turnout.services.rollouts import RolloutReport

__all__ = [
    "alias_from_json",
    "alias_json",
    "audit_from_json",
    "audit_json",
    "chain_break_json",
    "gate_result_from_json",
    "revision_from_json",
    "revision_json",
    "rollout_from_json",
    "rollout_json",
    "rollout_report_from_json",
    "rollout_report_json",
    "token_from_json",
    "token_json",
    "version_from_json",
    "version_json",
]

Json = dict[str, Any]


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def version_json(version: Version) -> Json:
    return {
        "id": str(version.id),
        "provider": version.provider,
        "model": version.model,
        "params": dict(version.params),
        "introduced_at": _iso(version.introduced_at),
        "introduced_by": version.introduced_by,
        "promoted_at": _iso(version.promoted_at),
        "prompt_version": version.prompt_version,
        "dataset_version": version.dataset_version,
        "eval_scores": dict(version.eval_scores),
        "known_issues": [
            {"text": i.text, "added_at": _iso(i.added_at), "added_by": i.added_by}
            for i in version.known_issues
        ],
        "deprecation_date": _iso(version.deprecation_date),
        "retirement_date": _iso(version.retirement_date),
        "status": version.status.value,
        "floating_allowed": version.floating_allowed,
        "warnings": list(version.warnings),
    }


def version_from_json(data: Mapping[str, Any]) -> Version:
    return Version(
        id=VersionId.parse(data["id"]),
        params=cast(dict[str, ParamValue], data.get("params") or {}),
        introduced_at=_dt(data.get("introduced_at")),
        introduced_by=data.get("introduced_by") or "",
        promoted_at=_dt(data.get("promoted_at")),
        prompt_version=data.get("prompt_version"),
        dataset_version=data.get("dataset_version"),
        eval_scores=cast(dict[str, float], data.get("eval_scores") or {}),
        known_issues=tuple(
            KnownIssue(i["text"], datetime.fromisoformat(i["added_at"]), i["added_by"])
            for i in data.get("known_issues") or []
        ),
        deprecation_date=_date(data.get("deprecation_date")),
        retirement_date=_date(data.get("retirement_date")),
        status=VersionStatus(data.get("status", "active")),
        floating_allowed=bool(data.get("floating_allowed")),
        warnings=tuple(data.get("warnings") or ()),
    )


def alias_json(alias: Alias) -> Json:
    return {
        "name": alias.name,
        "target": alias.target.to_dict(),
        "revision": alias.revision,
        "protected": alias.protected,
        "allow_floating": alias.allow_floating,
        "updated_at": _iso(alias.updated_at),
        "updated_by": alias.updated_by,
    }


def alias_from_json(data: Mapping[str, Any]) -> Alias:
    return Alias(
        name=data["name"],
        target=AliasTarget.from_dict(data["target"]),
        revision=int(data["revision"]),
        protected=bool(data["protected"]),
        allow_floating=bool(data.get("allow_floating")),
        updated_at=_dt(data.get("updated_at")),
        updated_by=data.get("updated_by") or "",
    )


def revision_json(revision: AliasRevision) -> Json:
    return {
        "alias": revision.alias,
        "revision": revision.revision,
        "action": revision.action.value,
        "target": revision.target.to_dict(),
        "previous": revision.previous.to_dict() if revision.previous else None,
        "protected": revision.protected,
        "actor": revision.actor,
        "reason": revision.reason,
        "created_at": _iso(revision.created_at),
        "restored_from": revision.restored_from,
    }


def revision_from_json(data: Mapping[str, Any]) -> AliasRevision:
    created_at = _dt(data["created_at"])
    assert created_at is not None
    return AliasRevision(
        alias=data["alias"],
        revision=int(data["revision"]),
        action=AliasAction(data["action"]),
        target=AliasTarget.from_dict(data["target"]),
        previous=AliasTarget.from_dict(data["previous"]) if data.get("previous") else None,
        protected=bool(data["protected"]),
        actor=data["actor"],
        reason=data.get("reason"),
        created_at=created_at,
        restored_from=data.get("restored_from"),
    )


def token_json(token: ApiToken) -> Json:
    return {
        "id": token.id,
        "name": token.name,
        "role": token.role.value,
        "prefix": token.prefix,
        "created_at": _iso(token.created_at),
        "created_by": token.created_by,
        "expires_at": _iso(token.expires_at),
        "revoked_at": _iso(token.revoked_at),
    }


def token_from_json(data: Mapping[str, Any]) -> ApiToken:
    created_at = _dt(data["created_at"])
    assert created_at is not None
    return ApiToken(
        id=int(data["id"]),
        name=data["name"],
        role=Role(data["role"]),
        prefix=data["prefix"],
        created_at=created_at,
        created_by=data["created_by"],
        expires_at=_dt(data.get("expires_at")),
        revoked_at=_dt(data.get("revoked_at")),
    )


def audit_json(entry: AuditEntry) -> Json:
    return {
        "seq": entry.seq,
        "at": _iso(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "detail": dict(entry.detail),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def audit_from_json(data: Mapping[str, Any]) -> AuditEntry:
    at = _dt(data["at"])
    assert at is not None
    return AuditEntry(
        seq=int(data["seq"]),
        at=at,
        actor=data["actor"],
        action=data["action"],
        subject=data["subject"],
        detail=cast(dict[str, JsonValue], data["detail"]),
        prev_hash=data["prev_hash"],
        hash=data["hash"],
    )


def chain_break_json(checked: int, brk: ChainBreak | None) -> Json:
    return {
        "ok": brk is None,
        "entries": checked,
        "first_bad_seq": brk.seq if brk else None,
        "reason": brk.reason if brk else None,
    }


def rollout_json(rollout: Rollout) -> Json:
    return {
        "id": rollout.id,
        "alias": rollout.alias,
        "stable": str(rollout.stable),
        "candidate": str(rollout.candidate),
        "status": rollout.status.value,
        "step": rollout.step,
        "steps": len(rollout.plan.steps),
        "weight_pct": rollout.weight / 100,
        "plan": rollout.plan.to_dict(),
        "salt": rollout.salt,
        "steps_log": [record.to_dict() for record in rollout.steps_log],
        "started_at": _iso(rollout.started_at),
        "step_started_at": _iso(rollout.step_started_at),
        "updated_at": _iso(rollout.updated_at),
        "finished_at": _iso(rollout.finished_at),
        "actor": rollout.actor,
        "reason": rollout.reason,
        "evidence": [dict(item) for item in rollout.evidence],
        "seq": rollout.seq,
    }


def rollout_from_json(data: Mapping[str, Any]) -> Rollout:
    started, step_started, updated = (
        _dt(data["started_at"]),
        _dt(data["step_started_at"]),
        _dt(data["updated_at"]),
    )
    if started is None or step_started is None or updated is None:
        raise ValueError("rollout JSON lacks its timestamps")
    return Rollout(
        id=int(data["id"]),
        alias=data["alias"],
        stable=VersionId.parse(data["stable"]),
        candidate=VersionId.parse(data["candidate"]),
        salt=data["salt"],
        plan=RolloutPlan.from_dict(data["plan"]),
        status=RolloutStatus(data["status"]),
        step=int(data["step"]),
        started_at=started,
        step_started_at=step_started,
        updated_at=updated,
        actor=data["actor"],
        reason=data.get("reason"),
        finished_at=_dt(data.get("finished_at")),
        steps_log=tuple(StepRecord.from_dict(item) for item in data.get("steps_log", [])),
        evidence=tuple(data.get("evidence") or ()),
        seq=int(data["seq"]),
    )


def _bound(value: object, unbounded: float) -> float:
    return unbounded if value is None else float(cast(float, value))


def gate_result_from_json(data: Mapping[str, Any]) -> GateResult:
    """Decode :meth:`GateResult.to_dict`.

    JSON has no infinity, so the encoder sends an unbounded interval side as
    ``null``; it comes back as ``-inf``/``inf``. A non-finite estimate or
    e-value comes back as None.
    """
    interval = data.get("interval")
    samples = data["samples"]
    estimate, e_value = data.get("estimate"), data.get("e_value")
    return GateResult(
        metric=Metric(data["metric"]),
        tolerance=str(data["tolerance"]),
        verdict=Verdict(data["verdict"]),
        estimate=None if estimate is None else float(estimate),
        interval=None
        if interval is None
        else (_bound(interval[0], -math.inf), _bound(interval[1], math.inf)),
        e_value=None if e_value is None else float(e_value),
        samples=(int(samples["canary"]), int(samples["stable"])),
        alpha=float(data["alpha"]),
        summary=str(data["summary"]),
    )


def rollout_report_json(report: RolloutReport) -> Json:
    """``rollout status``: the rollout's own JSON plus ``gates`` and ``samples``."""
    data = rollout_json(report.rollout)
    data["gates"] = [result.to_dict() for result in report.results]
    data["samples"] = {
        "canary": report.canary_requests,
        "stable": report.stable_requests,
        "canary_this_step": report.step_canary_requests,
    }
    return data


def rollout_report_from_json(data: Mapping[str, Any]) -> RolloutReport:
    samples = data["samples"]
    return RolloutReport(
        rollout=rollout_from_json(data),
        results=tuple(gate_result_from_json(item) for item in data["gates"]),
        step_canary_requests=int(samples["canary_this_step"]),
        canary_requests=int(samples["canary"]),
        stable_requests=int(samples["stable"]),
    )


def plan_json(plan: Plan, applied: bool) -> Json:
    """A plan (or what an apply changed) as ``turnout plan --json`` prints it."""
    return {
        "applied": applied,
        "changes": [
            {
                "kind": change.kind.value,
                "subject": change.subject,
                "before": change.before,
                "after": change.after,
                "description": change.describe(),
            }
            for change in plan.changes
        ],
        "unmanaged_aliases": list(plan.unmanaged_aliases),
        "summary": plan.summary(),
    }
