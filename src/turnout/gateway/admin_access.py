"""Admin routes for access and evidence: tokens, the audit log, routing snapshots.

The snapshot routes exist for remote SDK clients: ``GET /snapshot`` is the whole
alias -> target map tagged with the change marker it reflects (read in one
transaction, so the two agree), and ``GET /snapshot/marker`` is the cheap poll
that tells a client whether it must fetch the map again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from turnout.domain.access import Operation, Role, authorize
from turnout.gateway.auth import CurrentPrincipal
from turnout.serialize import audit_json, chain_break_json, token_json
from turnout.services.registry import Registry
from turnout.services.snapshot import load_snapshot

__all__ = ["CreateTokenBody", "add_audit_routes", "add_token_routes"]


class CreateTokenBody(BaseModel):
    """A token to issue; its secret is in the response and nowhere else, ever."""

    model_config = ConfigDict(extra="forbid")

    name: str
    role: str
    expires_in_days: float | None = Field(default=None, le=36500)


def add_token_routes(router: APIRouter, registry: Registry) -> None:
    tokens = registry.tokens

    @router.get("/tokens", tags=["tokens"], summary="List tokens (never their secrets)")
    def list_tokens(principal: CurrentPrincipal) -> dict[str, Any]:
        return {"data": [token_json(t) for t in tokens.all(principal)]}

    @router.post("/tokens", status_code=201, tags=["tokens"], summary="Issue a token")
    def create_token(
        body: CreateTokenBody, principal: CurrentPrincipal, response: Response
    ) -> dict[str, Any]:
        days = body.expires_in_days
        expires_in = None if days is None else timedelta(days=days)
        issued = tokens.create(principal, body.name, Role.parse(body.role), expires_in)
        response.headers["Cache-Control"] = "no-store"
        return {"token": token_json(issued.token), "secret": issued.secret}

    @router.delete("/tokens/{name_or_id}", tags=["tokens"], summary="Revoke a token")
    def revoke_token(name_or_id: str, principal: CurrentPrincipal) -> dict[str, Any]:
        return token_json(tokens.revoke(principal, name_or_id))


def add_audit_routes(router: APIRouter, registry: Registry) -> None:
    audit = registry.audit
    ctx = registry.ctx

    @router.get("/audit", tags=["audit"], summary="Audit entries, newest first")
    def audit_entries(
        principal: CurrentPrincipal,
        limit: Annotated[int, Query(ge=0, description="At most this many; 0 = all")] = 50,
        subject: Annotated[str | None, Query(description="Only entries about this")] = None,
    ) -> dict[str, Any]:
        entries = audit.entries(principal, limit or None, subject)
        return {"data": [audit_json(e) for e in entries]}

    @router.get("/audit/verify", tags=["audit"], summary="Verify the audit hash chain")
    def verify_audit(principal: CurrentPrincipal) -> dict[str, Any]:
        checked, brk = audit.verify(principal)
        return chain_break_json(checked, brk)

    @router.get("/snapshot", tags=["snapshot"], summary="Every alias's target, for clients")
    def snapshot(principal: CurrentPrincipal) -> dict[str, Any]:
        authorize(principal, Operation.READ)
        current = load_snapshot(ctx.store, ctx.clock)
        return {
            "marker": current.marker,
            "aliases": {
                name: {
                    "target": current.targets[name].to_dict(),
                    "revision": current.resolve(name).revision,
                }
                for name in current.aliases()
            },
        }

    @router.get("/snapshot/marker", tags=["snapshot"], summary="The registry's change marker")
    def snapshot_marker(principal: CurrentPrincipal) -> dict[str, int]:
        authorize(principal, Operation.READ)
        return {"marker": ctx.store.change_marker()}
