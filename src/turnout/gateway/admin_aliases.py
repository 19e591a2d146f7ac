"""Admin routes for aliases: flip, roll back, protect, read history, resolve.

Writes are compare-and-set: ``expected_revision`` in the body, or the standard
``If-Match: <revision>`` header (what ``ETag`` on reads and writes hands out),
makes a write fail with 409 when someone else changed the alias in between.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from turnout.domain.access import Operation, authorize
from turnout.domain.aliases import validate_alias_name
from turnout.domain.promotion import PromotionPolicy
from turnout.errors import InvalidInput
from turnout.gateway.auth import CurrentPrincipal
from turnout.serialize import alias_json, revision_json
from turnout.services.aliases import AliasChange
from turnout.services.registry import Registry

__all__ = [
    "PromotionBody",
    "ProtectBody",
    "RollbackBody",
    "SetAliasBody",
    "add_alias_routes",
    "change_json",
    "expected_revision",
    "parse_instant",
]


class SetAliasBody(BaseModel):
    """Point an alias at a version; ``fallbacks`` omitted keeps the current chain."""

    model_config = ConfigDict(extra="forbid")

    version: str
    fallbacks: list[str] | None = None
    reason: str | None = None
    expected_revision: int | None = None
    allow_floating: bool = False
    protected: bool | None = None


class RollbackBody(BaseModel):
    """Restore revision ``to`` (default: the last one with a different target)."""

    model_config = ConfigDict(extra="forbid")

    to: int | None = None
    reason: str | None = None
    expected_revision: int | None = None


class ProtectBody(BaseModel):
    """Protect an alias (deployer) or lift the protection (admin)."""

    model_config = ConfigDict(extra="forbid")

    protected: bool
    reason: str | None = None


class PromotionBody(BaseModel):
    """The alias's promotion policy (``suites``, ``min_score``, ``max_regression``,
    ``min_shadow_pairs``, ``max_age_days``), or null to clear it."""

    model_config = ConfigDict(extra="forbid")

    policy: dict[str, Any] | None
    reason: str | None = None


def expected_revision(body_value: int | None, if_match: str | None) -> int | None:
    """The revision a write is conditional on, from the body or ``If-Match``.

    Accepts ``3``, ``"3"`` and ``W/"3"`` (ETag spellings); ``*`` means any.
    """
    if if_match is None or if_match.strip() == "*":
        return body_value
    text = if_match.strip().removeprefix("W/").strip('"')
    try:
        header_value = int(text)
    except ValueError:
        raise InvalidInput(f"If-Match {if_match!r} must be an alias revision number") from None
    if body_value is not None and body_value != header_value:
        raise InvalidInput(
            f"If-Match says revision {header_value} but expected_revision says {body_value}"
        )
    return header_value


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; one without an offset is taken as UTC."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"query parameter 'at' {text!r} is not an ISO 8601 time "
            "(for example 2026-01-15T09:30:00Z)"
        ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def change_json(change: AliasChange, response: Response) -> dict[str, Any]:
    response.headers["ETag"] = f'"{change.revision.revision}"'
    return {"revision": revision_json(change.revision), "changed": change.changed}


IfMatch = Annotated[str | None, Header(description="Alias revision the write expects")]


def add_alias_routes(router: APIRouter, registry: Registry) -> None:
    aliases = registry.aliases

    @router.get("/aliases", tags=["aliases"], summary="List aliases")
    def list_aliases(principal: CurrentPrincipal) -> dict[str, Any]:
        authorize(principal, Operation.READ)
        return {"data": [alias_json(a) for a in aliases.all()]}

    @router.get("/aliases/{name}", tags=["aliases"], summary="Show an alias")
    def get_alias(name: str, principal: CurrentPrincipal, response: Response) -> dict[str, Any]:
        authorize(principal, Operation.READ)
        alias = aliases.get(validate_alias_name(name))
        response.headers["ETag"] = f'"{alias.revision}"'
        return alias_json(alias)

    @router.put("/aliases/{name}", tags=["aliases"], summary="Point an alias at a version")
    def set_alias(
        name: str,
        body: SetAliasBody,
        principal: CurrentPrincipal,
        response: Response,
        if_match: IfMatch = None,
    ) -> dict[str, Any]:
        change = aliases.set(
            principal,
            name,
            body.version,
            body.fallbacks,
            body.reason,
            expected_revision(body.expected_revision, if_match),
            body.allow_floating,
            body.protected,
        )
        return change_json(change, response)

    @router.get(
        "/aliases/{name}/history", tags=["aliases"], summary="An alias's revisions, oldest first"
    )
    def alias_history(name: str, principal: CurrentPrincipal) -> dict[str, Any]:
        authorize(principal, Operation.READ)
        history = aliases.history(validate_alias_name(name))
        return {"data": [revision_json(r) for r in history]}

    @router.post("/aliases/{name}/rollback", tags=["aliases"], summary="Roll an alias back")
    def rollback_alias(
        name: str,
        principal: CurrentPrincipal,
        response: Response,
        body: Annotated[RollbackBody | None, Body()] = None,
        if_match: IfMatch = None,
    ) -> dict[str, Any]:
        request = body or RollbackBody()
        change = aliases.rollback(
            principal,
            validate_alias_name(name),
            request.to,
            request.reason,
            expected_revision(request.expected_revision, if_match),
        )
        return change_json(change, response)

    @router.put(
        "/aliases/{name}/promotion",
        tags=["aliases"],
        summary="Set (or clear, with policy null) the evidence a new version needs",
    )
    def set_promotion(
        name: str, body: PromotionBody, principal: CurrentPrincipal, response: Response
    ) -> dict[str, Any]:
        policy = PromotionPolicy.from_dict(body.policy) if body.policy is not None else None
        change = aliases.set_promotion(principal, validate_alias_name(name), policy, body.reason)
        return change_json(change, response)

    @router.post(
        "/aliases/{name}/protect", tags=["aliases"], summary="Protect or unprotect an alias"
    )
    def protect_alias(
        name: str, body: ProtectBody, principal: CurrentPrincipal, response: Response
    ) -> dict[str, Any]:
        change = aliases.protect(principal, validate_alias_name(name), body.protected, body.reason)
        return change_json(change, response)

    @router.get(
        "/aliases/{name}/resolve",
        tags=["aliases"],
        summary="The revision in force now or at a time",
    )
    def resolve_alias(
        name: str,
        principal: CurrentPrincipal,
        at: Annotated[str | None, Query(description="ISO 8601 time; default now")] = None,
    ) -> dict[str, Any]:
        authorize(principal, Operation.READ)
        instant = parse_instant(at) if at is not None else None
        return revision_json(aliases.resolve_at(validate_alias_name(name), instant))
