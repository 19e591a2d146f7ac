"""The dashboard's ASGI app factory: every page under ``/ui``, assembled in one place.

:func:`build_web_app` is what :func:`turnout.wiring.build_server_app` mounts (the
server's path dispatch sends ``/ui`` and ``/ui/...`` here). Route modules are
split by page; each gets the same :class:`~turnout.web.render.Web`. Errors are
translated once, here: a turnout error becomes a page with the status of
:func:`turnout.errors.http_status_for` (the admin API's table), and a missing or
dead session on a page read sends the browser to sign-in instead.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from turnout.errors import AuthenticationFailed, TurnoutError, http_status_for
from turnout.services.registry import Registry
from turnout.web import aliases, audit, rollouts, shadow, signin, version_record, versions
from turnout.web.render import Web, build_environment
from turnout.web.session import UI_PREFIX, clear_session

__all__ = ["SECURITY_HEADERS", "SecurityHeaders", "build_web_app"]

log = logging.getLogger(__name__)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
"""Sent with every dashboard response: scripts and styles only from /ui/static, no framing."""


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response of the wrapped app (those it lacks)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                own = {name.lower() for name, _ in headers}  # a page may set a stricter one
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in own]
                message["headers"] = headers
            await send(message)

        await self._app(scope, receive, send_with_headers)


def build_web_app(registry: Registry, page_size: int = 50) -> ASGIApp:
    """The dashboard over ``registry`` (which the caller owns and closes)."""
    web = Web(registry, build_environment(), page_size)

    async def home(request: Request) -> Response:
        return RedirectResponse(f"{UI_PREFIX}/aliases", status_code=303)

    async def on_turnout_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TurnoutError)
        if isinstance(exc, AuthenticationFailed) and request.method in ("GET", "HEAD"):
            query = urlencode({"next": request.url.path, "why": exc.message})
            signin = f"{UI_PREFIX}/signin?{query}"
            response: Response = RedirectResponse(signin, status_code=303)
            if request.headers.get("hx-request") == "true":  # a live fragment: reload whole
                response = Response(status_code=401, headers={"hx-redirect": signin})
            clear_session(response)
            return response
        status = http_status_for(exc)
        return web.page(request, "error.html", {"status": status, "message": exc.message}, status)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = "no such page" if exc.status_code == 404 else str(exc.detail)
        values = {"status": exc.status_code, "message": message}
        return web.page(request, "error.html", values, exc.status_code)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("dashboard error on %s", request.url.path, exc_info=exc)
        values = {"status": 500, "message": "internal error (details are in the server log)"}
        return web.page(request, "error.html", values, 500)

    routes: list[BaseRoute] = [
        Route(f"{UI_PREFIX}", home),
        Route(f"{UI_PREFIX}/", home),
        Mount(f"{UI_PREFIX}/static", StaticFiles(packages=[("turnout.web", "static")])),
        *signin.routes(web),
        *aliases.routes(web),
        *rollouts.routes(web),
        *shadow.routes(web),
        *versions.routes(web),
        *version_record.routes(web),
        *audit.routes(web),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            TurnoutError: on_turnout_error,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
    )
    return SecurityHeaders(app)
