"""Admin route for deprecation warnings: what the registry uses that retires soon.

``GET /api/v1/deprecations?within_days=90`` answers exactly what ``turnout
deprecations --json`` prints, from the same service, so a CI job can ask a
remote registry with a viewer token.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from turnout.domain.deprecations import DEFAULT_WINDOW_DAYS
from turnout.gateway.auth import CurrentPrincipal
from turnout.services.registry import Registry

__all__ = ["add_deprecation_routes"]


def add_deprecation_routes(router: APIRouter, registry: Registry) -> None:
    deprecations = registry.deprecations

    @router.get(
        "/deprecations",
        tags=["deprecations"],
        summary="Versions in use that retire within the window, soonest first",
    )
    def list_deprecations(
        principal: CurrentPrincipal,
        within_days: Annotated[
            int, Query(ge=0, le=36500, description="Look this many days ahead")
        ] = DEFAULT_WINDOW_DAYS,
    ) -> dict[str, Any]:
        findings = deprecations.findings(principal, within_days)
        return {"within_days": within_days, "data": [f.to_dict() for f in findings]}
