"""Bearer-token authentication for the admin API, built into the route class.

Authentication lives in the route class rather than in a per-route dependency,
so no admin route can be added without it, and it runs *before* FastAPI reads
or validates the body: an anonymous caller gets 401, never a hint about what a
valid request looks like. Authorisation (which role may do what) stays in the
services, where the local client meets the very same rules.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from turnout.domain.access import Principal
from turnout.errors import AuthenticationFailed

__all__ = [
    "CurrentPrincipal",
    "authenticated_route",
    "bearer_scheme",
    "bearer_secret",
    "current_principal",
]

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An API token from `turnout token create --name NAME --role ROLE` (tnt_...).",
)
"""Only documents the scheme in OpenAPI (the docs' Authorize button); never enforces."""


def bearer_secret(request: Request) -> str:
    """The token in ``Authorization: Bearer tnt_...``; anything else is a 401."""
    header = request.headers.get("authorization")
    if not header:
        raise AuthenticationFailed(
            "missing API token: send 'Authorization: Bearer tnt_...' "
            "(create one with 'turnout token create --name NAME --role ROLE')"
        )
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationFailed("the Authorization header must be 'Bearer tnt_...'")
    return secret.strip()


def authenticated_route(authenticate: Callable[[str], Principal]) -> type[APIRoute]:
    """A route class whose every handler first turns the bearer token into a principal."""

    class AuthenticatedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def authenticated(request: Request) -> Response:
                secret = bearer_secret(request)
                request.state.principal = await run_in_threadpool(authenticate, secret)
                return await handler(request)

            return authenticated

    return AuthenticatedRoute


async def current_principal(request: Request) -> Principal:
    """Who is calling: set by the route class before any handler or dependency runs."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):  # a route outside the authenticated router
        raise AuthenticationFailed("this route was not authenticated")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
"""Handler parameter type: the authenticated caller."""
