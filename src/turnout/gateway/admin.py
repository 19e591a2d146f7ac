"""The admin API (``/api/v1``): every registry operation, one module per resource.

Handlers are plain ``def``: the services are synchronous SQLAlchemy code, and
FastAPI runs such handlers in its threadpool instead of blocking the event loop.
Every route is authenticated by the router's route class (``gateway/auth.py``);
the services decide what the caller's role allows, exactly as for the local client.
"""

from __future__ import annotations

from fastapi import APIRouter, Security

from turnout.gateway.admin_access import add_audit_routes, add_token_routes
from turnout.gateway.admin_aliases import add_alias_routes
from turnout.gateway.admin_config import add_config_routes
from turnout.gateway.admin_deprecations import add_deprecation_routes
from turnout.gateway.admin_rollouts import add_rollout_routes
from turnout.gateway.admin_shadow import add_shadow_routes
from turnout.gateway.admin_versions import add_version_routes
from turnout.gateway.auth import authenticated_route, bearer_scheme
from turnout.services.registry import Registry

__all__ = ["ADMIN_PREFIX", "build_admin_router"]

ADMIN_PREFIX = "/api/v1"


def build_admin_router(registry: Registry) -> APIRouter:
    """All admin routes over ``registry``, to be mounted by the app factory."""
    router = APIRouter(
        prefix=ADMIN_PREFIX,
        route_class=authenticated_route(registry.tokens.authenticate),
        dependencies=[Security(bearer_scheme)],
        responses={
            401: {"description": "Missing, unknown, expired or revoked token"},
            403: {"description": "The token's role is too low for this operation"},
        },
    )
    add_version_routes(router, registry)
    add_alias_routes(router, registry)
    add_rollout_routes(router, registry)
    add_shadow_routes(router, registry)
    add_deprecation_routes(router, registry)
    add_config_routes(router, registry)
    add_token_routes(router, registry)
    add_audit_routes(router, registry)
    return router
