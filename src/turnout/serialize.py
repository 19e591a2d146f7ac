"""JSON shapes of domain values: one encoding for the API, ``--json`` and the SDK.

The admin API sends these dicts, the HTTP client decodes them back into the same
domain values the local client returns, and ``--json`` prints them; keeping the
pairs side by side here means the three cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, cast

from turnout.domain.access import ApiToken, Role
from turnout.domain.aliases import Alias, AliasAction, AliasRevision, AliasTarget
from turnout.domain.audit import AuditEntry, ChainBreak, JsonValue
from turnout.domain.ids import VersionId
from turnout.domain.versions import KnownIssue, ParamValue, Version, VersionStatus

__all__ = [
    "alias_from_json",
    "alias_json",
    "audit_from_json",
    "audit_json",
    "chain_break_json",
    "revision_from_json",
    "revision_json",
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
