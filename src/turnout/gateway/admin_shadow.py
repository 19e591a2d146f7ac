"""Admin routes for shadow testing: start, stop and inspect an alias's shadow candidates.

A start or stop is an alias revision, so it answers like ``PUT /aliases/{name}``
(the revision now in force, ``changed``, and an ``ETag``). Any token may read;
a change needs an operator, and on a protected alias a deployer with a reason
(the shadow service decides, as for the local client).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from turnout.domain.access import Operation, authorize
from turnout.domain.aliases import validate_alias_name
from turnout.gateway.admin_aliases import change_json
from turnout.gateway.auth import CurrentPrincipal
from turnout.services.registry import Registry

__all__ = ["StartShadowBody", "StopShadowBody", "add_shadow_routes"]


class StartShadowBody(BaseModel):
    """Shadow the alias with ``candidate`` on a ``sample`` of its requests."""

    model_config = ConfigDict(extra="forbid")

    candidate: str
    sample: float = Field(0.1, gt=0, le=1)
    max_rps: float | None = Field(None, gt=0)
    max_cost_per_day: float | None = Field(None, gt=0)
    reason: str | None = None


class StopShadowBody(BaseModel):
    """Stop ``candidate``'s shadow, or every shadow of the alias when it is omitted."""

    model_config = ConfigDict(extra="forbid")

    candidate: str | None = None
    reason: str | None = None


def add_shadow_routes(router: APIRouter, registry: Registry) -> None:
    shadow = registry.shadow

    @router.post("/aliases/{name}/shadows", tags=["shadow"], summary="Start a shadow candidate")
    def start_shadow(
        name: str, body: StartShadowBody, principal: CurrentPrincipal, response: Response
    ) -> dict[str, Any]:
        change = shadow.start(
            principal,
            validate_alias_name(name),
            body.candidate,
            body.sample,
            body.max_rps,
            body.max_cost_per_day,
            body.reason,
        )
        return change_json(change, response)

    @router.post("/aliases/{name}/shadows/stop", tags=["shadow"], summary="Stop shadow candidates")
    def stop_shadow(
        name: str,
        principal: CurrentPrincipal,
        response: Response,
        body: Annotated[StopShadowBody | None, Body()] = None,
    ) -> dict[str, Any]:
        request = body or StopShadowBody()
        change = shadow.stop(
            principal, validate_alias_name(name), request.candidate, request.reason
        )
        return change_json(change, response)

    @router.get(
        "/aliases/{name}/shadows",
        tags=["shadow"],
        summary="Shadow candidates and the pairs they collected",
    )
    def shadow_status(
        name: str,
        principal: CurrentPrincipal,
        window_hours: Annotated[float, Query(gt=0)] = 24.0,
    ) -> dict[str, Any]:
        authorize(principal, Operation.READ)
        status = shadow.status(validate_alias_name(name), timedelta(hours=window_hours))
        return status.to_dict()
