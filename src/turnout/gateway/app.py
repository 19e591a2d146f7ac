"""The ASGI app factory: one FastAPI app for the admin API, health and what comes next.

``build_app`` is the one place the app is assembled: error handlers, the admin
router, ``/healthz``, and any further routers (the OpenAI-compatible gateway
routes will arrive as one more entry of ``routers``). Nothing is built at import.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

import turnout
from turnout.gateway.admin import build_admin_router
from turnout.gateway.errors import install_error_handlers
from turnout.services.registry import Registry

__all__ = ["DOCS_URL", "OPENAPI_URL", "build_app"]

OPENAPI_URL = "/api/openapi.json"
DOCS_URL = "/api/docs"


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return router


def build_app(
    registry: Registry, routers: Iterable[APIRouter] = (), owns_registry: bool = False
) -> FastAPI:
    """The turnout HTTP app over ``registry``.

    ``routers`` are mounted after the built-in ones (each carries its own prefix).
    With ``owns_registry`` the app closes the registry when it shuts down, which
    is what the server wants and what tests sharing a registry do not.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owns_registry:
                registry.close()

    app = FastAPI(
        title="turnout",
        summary="Model versioning for production AI: pinned versions, aliases, rollback.",
        version=turnout.__version__,
        openapi_url=OPENAPI_URL,
        docs_url=DOCS_URL,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.registry = registry
    install_error_handlers(app)
    for router in (_health_router(), build_admin_router(registry), *routers):
        app.include_router(router)
    return app
