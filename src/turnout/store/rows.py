"""Mapping between table rows and domain values, kept apart from both."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import RowMapping

from turnout.domain.access import ApiToken, Role
from turnout.domain.aliases import Alias, AliasAction, AliasRevision, AliasTarget
from turnout.domain.audit import AuditEntry, JsonValue
from turnout.domain.ids import VersionId
from turnout.domain.providers import ApiKeyAuth, ProviderConfig, ProviderKind
from turnout.domain.requests import RequestRecord
from turnout.domain.versions import KnownIssue, ParamValue, Version, VersionStatus

__all__ = [
    "REQUEST_COLUMNS",
    "alias_from_row",
    "alias_row",
    "audit_from_row",
    "provider_from_row",
    "provider_row",
    "request_from_row",
    "request_params",
    "request_row",
    "revision_from_row",
    "revision_row",
    "token_from_row",
    "version_from_row",
    "version_row",
]

Row = RowMapping


def version_row(version: Version) -> dict[str, Any]:
    return {
        "id": str(version.id),
        "provider": version.id.provider,
        "model": version.id.model,
        "params": dict(version.params),
        "introduced_at": version.introduced_at,
        "introduced_by": version.introduced_by,
        "promoted_at": version.promoted_at,
        "prompt_version": version.prompt_version,
        "dataset_version": version.dataset_version,
        "eval_scores": dict(version.eval_scores),
        "known_issues": [
            {"text": i.text, "added_at": i.added_at.isoformat(), "added_by": i.added_by}
            for i in version.known_issues
        ],
        "deprecation_date": version.deprecation_date,
        "retirement_date": version.retirement_date,
        "status": version.status.value,
        "floating_allowed": version.floating_allowed,
        "warnings": list(version.warnings),
    }


def version_from_row(row: Row) -> Version:
    return Version(
        id=VersionId(row["provider"], row["model"]),
        params=cast(dict[str, ParamValue], row["params"]),
        introduced_at=row["introduced_at"],
        introduced_by=row["introduced_by"],
        promoted_at=row["promoted_at"],
        prompt_version=row["prompt_version"],
        dataset_version=row["dataset_version"],
        eval_scores=cast(dict[str, float], row["eval_scores"]),
        known_issues=tuple(
            KnownIssue(item["text"], datetime.fromisoformat(item["added_at"]), item["added_by"])
            for item in row["known_issues"]
        ),
        deprecation_date=row["deprecation_date"],
        retirement_date=row["retirement_date"],
        status=VersionStatus(row["status"]),
        floating_allowed=bool(row["floating_allowed"]),
        warnings=tuple(row["warnings"]),
    )


def alias_row(alias: Alias) -> dict[str, Any]:
    return {
        "name": alias.name,
        "target": alias.target.to_dict(),
        "revision": alias.revision,
        "protected": alias.protected,
        "allow_floating": alias.allow_floating,
        "updated_at": alias.updated_at,
        "updated_by": alias.updated_by,
    }


def alias_from_row(row: Row) -> Alias:
    return Alias(
        name=row["name"],
        target=AliasTarget.from_dict(row["target"]),
        revision=row["revision"],
        protected=bool(row["protected"]),
        allow_floating=bool(row["allow_floating"]),
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


def revision_row(revision: AliasRevision) -> dict[str, Any]:
    return {
        "alias": revision.alias,
        "revision": revision.revision,
        "action": revision.action.value,
        "target": revision.target.to_dict(),
        "previous": revision.previous.to_dict() if revision.previous else None,
        "protected": revision.protected,
        "actor": revision.actor,
        "reason": revision.reason,
        "created_at": revision.created_at,
        "restored_from": revision.restored_from,
    }


def revision_from_row(row: Row) -> AliasRevision:
    previous = row["previous"]
    return AliasRevision(
        alias=row["alias"],
        revision=row["revision"],
        action=AliasAction(row["action"]),
        target=AliasTarget.from_dict(row["target"]),
        previous=AliasTarget.from_dict(previous) if previous else None,
        protected=bool(row["protected"]),
        actor=row["actor"],
        reason=row["reason"],
        created_at=row["created_at"],
        restored_from=row["restored_from"],
    )


def provider_row(config: ProviderConfig) -> dict[str, Any]:
    return {
        "name": config.name,
        "kind": config.kind.value,
        "base_url": config.base_url,
        "api_key_env": config.api_key_env,
        "auth": config.auth.value if config.auth is not None else None,
        "api_version": config.api_version,
    }


def provider_from_row(row: Row) -> ProviderConfig:
    return ProviderConfig(
        row["name"],
        ProviderKind(row["kind"]),
        row["base_url"],
        row["api_key_env"],
        ApiKeyAuth(row["auth"]) if row["auth"] is not None else None,
        row["api_version"],
    )


def token_from_row(row: Row) -> ApiToken:
    return ApiToken(
        id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        prefix=row["prefix"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


def request_row(record: RequestRecord) -> dict[str, Any]:
    return {
        "request_id": record.request_id,
        "at": record.at,
        "alias": record.alias,
        "version": record.version,
        "arm": record.arm,
        "key_hash": record.key_hash,
        "status": record.status,
        "error_class": record.error_class,
        "latency_ms": record.latency_ms,
        "ttft_ms": record.ttft_ms,
        "tokens_in": record.tokens_in,
        "tokens_out": record.tokens_out,
        "cost_usd": record.cost_usd,
        "stream": record.stream,
    }


REQUEST_COLUMNS = (
    "request_id", "at", "alias", "version", "arm", "key_hash", "status", "error_class",
    "latency_ms", "ttft_ms", "tokens_in", "tokens_out", "cost_usd", "stream",
)  # fmt: skip
"""Request-log columns in the order of :func:`request_params`."""


def request_params(record: RequestRecord, sqlite: bool) -> tuple[object, ...]:
    """A request-log row as driver parameters.

    The timestamp is written exactly as :class:`~turnout.store.schema.UtcDateTime`
    writes it through Core: UTC text on SQLite, an aware datetime on PostgreSQL.
    """
    at = record.at.astimezone(UTC)
    return (
        record.request_id,
        at.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else at,
        record.alias,
        record.version,
        record.arm,
        record.key_hash,
        record.status,
        record.error_class,
        record.latency_ms,
        record.ttft_ms,
        record.tokens_in,
        record.tokens_out,
        record.cost_usd,
        record.stream,
    )


def request_from_row(row: Row) -> RequestRecord:
    return RequestRecord(
        request_id=row["request_id"],
        at=row["at"],
        alias=row["alias"],
        version=row["version"],
        arm=row["arm"],
        key_hash=row["key_hash"],
        status=row["status"],
        error_class=row["error_class"],
        latency_ms=row["latency_ms"],
        ttft_ms=row["ttft_ms"],
        tokens_in=row["tokens_in"],
        tokens_out=row["tokens_out"],
        cost_usd=row["cost_usd"],
        stream=bool(row["stream"]),
    )


def audit_from_row(row: Row) -> AuditEntry:
    return AuditEntry(
        seq=row["seq"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        subject=row["subject"],
        detail=cast(dict[str, JsonValue], row["detail"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
