"""Admin routes for versions: register, list, show, and record known issues.

Version ids contain ``/`` (``openai/gpt-4o-2024-11-20``), hence the ``:path``
converter; the services parse and validate them, so a bad id is the same 400
here as on the command line.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from turnout.domain.access import Operation, authorize
from turnout.domain.versions import ParamValue
from turnout.gateway.auth import CurrentPrincipal
from turnout.serialize import version_json
from turnout.services.registry import Registry

__all__ = ["AddVersionBody", "KnownIssueBody", "add_version_routes"]


class AddVersionBody(BaseModel):
    """A version to register; floating ids are refused unless ``allow_floating``."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(examples=["openai/gpt-4o-2024-11-20"])
    params: dict[str, ParamValue] = Field(default_factory=dict)
    prompt_version: str | None = None
    dataset_version: str | None = None
    allow_floating: bool = False


class KnownIssueBody(BaseModel):
    """A caveat to append to a version's record."""

    model_config = ConfigDict(extra="forbid")

    text: str


def add_version_routes(router: APIRouter, registry: Registry) -> None:
    versions = registry.versions

    @router.get("/versions", tags=["versions"], summary="List registered versions")
    def list_versions(principal: CurrentPrincipal) -> dict[str, Any]:
        authorize(principal, Operation.READ)
        return {"data": [version_json(v) for v in versions.all()]}

    @router.post("/versions", status_code=201, tags=["versions"], summary="Register a version")
    def add_version(body: AddVersionBody, principal: CurrentPrincipal) -> dict[str, Any]:
        version = versions.add(
            principal,
            body.id,
            body.params,
            body.prompt_version,
            body.dataset_version,
            body.allow_floating,
        )
        return version_json(version)

    @router.get("/versions/{version_id:path}", tags=["versions"], summary="Show a version")
    def get_version(version_id: str, principal: CurrentPrincipal) -> dict[str, Any]:
        authorize(principal, Operation.READ)
        return version_json(versions.get(version_id))

    @router.post(
        "/versions/{version_id:path}/known-issues",
        status_code=201,
        tags=["versions"],
        summary="Append a known issue to a version's record",
    )
    def add_known_issue(
        version_id: str, body: KnownIssueBody, principal: CurrentPrincipal
    ) -> dict[str, Any]:
        return version_json(versions.add_known_issue(principal, version_id, body.text))
