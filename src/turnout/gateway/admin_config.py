"""Admin routes for config as code: plan and apply a ``turnout.yaml`` sent as text.

A CI job that holds an API token but no database credentials can run
``turnout plan --check`` and ``turnout apply`` against a server URL. The file is
sent as text and parsed here by the same parser the CLI uses, so errors keep
their ``file:line`` and a plan over HTTP is the same dry run as a plan on a
database (apply's code in a transaction that is rolled back). Plan needs read
access; apply needs the deployer role, and a reason when a protected alias
changes, as on the command line.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from turnout.config_file import parse_config
from turnout.gateway.auth import CurrentPrincipal
from turnout.serialize import plan_json
from turnout.services.config_review import review
from turnout.services.registry import Registry

__all__ = ["ConfigBody", "add_config_routes"]

MAX_CONFIG_CHARS = 4 * 1024 * 1024
"""A registry file is kilobytes; anything near this is a mistake, refused before parsing."""


class ConfigBody(BaseModel):
    """A config file's text, the name its errors should carry, and the change's reason."""

    model_config = ConfigDict(extra="forbid")

    config: str = Field(max_length=MAX_CONFIG_CHARS, examples=["versions: []\n"])
    file: str = Field(default="turnout.yaml", max_length=255)
    reason: str | None = None


def add_config_routes(router: APIRouter, registry: Registry) -> None:
    service = registry.config

    @router.post(
        "/config/plan", tags=["config"], summary="What applying a turnout.yaml would change"
    )
    def plan(body: ConfigBody, principal: CurrentPrincipal) -> dict[str, Any]:
        desired = parse_config(body.config, body.file)
        result = service.plan(principal, desired, body.reason)
        warnings = review(registry, principal, desired, result, body.reason, applied=False)
        return {**plan_json(result, applied=False), "warnings": warnings}

    @router.post("/config/apply", tags=["config"], summary="Make the registry match a turnout.yaml")
    def apply(body: ConfigBody, principal: CurrentPrincipal) -> dict[str, Any]:
        desired = parse_config(body.config, body.file)
        result = service.apply(principal, desired, body.reason)
        warnings = review(registry, principal, desired, result, body.reason, applied=True)
        return {**plan_json(result, applied=True), "warnings": warnings}
