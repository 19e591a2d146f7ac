"""Sign-in with an API token, and sign-out.

The token is checked by the token service itself, so an unknown, expired or
revoked token is refused with the very message the admin API gives.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from turnout.errors import AuthenticationFailed
from turnout.web.render import Web, form_fields
from turnout.web.session import (
    CSRF_FIELD,
    UI_PREFIX,
    check_csrf,
    check_pre_csrf,
    clear_session,
    new_pre_csrf,
    safe_next,
    set_pre_csrf,
    start_session,
)

__all__ = ["routes"]


def routes(web: Web) -> list[BaseRoute]:
    def form(request: Request, error: str | None, status: int) -> Response:
        token = new_pre_csrf()
        target = safe_next(request.query_params.get("next"))
        values = {"next": target, "error": error, "signin_csrf": token}
        page = web.page(request, "signin.html", values, status)
        set_pre_csrf(request, page, token)
        return page

    async def show(request: Request) -> Response:
        return form(request, request.query_params.get("why"), 200)

    async def submit(request: Request) -> Response:
        data = await form_fields(request)
        check_pre_csrf(request, data.get(CSRF_FIELD))
        secret = data.get("token")
        if not isinstance(secret, str) or not secret.strip():
            return form(request, "paste an API token (tnt_...)", 400)
        secret = secret.strip()
        try:
            await web.call(lambda: web.registry.tokens.authenticate(secret))
        except AuthenticationFailed as exc:
            return form(request, exc.message, 401)
        target = data.get("next")
        response = RedirectResponse(
            safe_next(target if isinstance(target, str) else None), status_code=303
        )
        start_session(request, response, secret)
        return response

    async def signout(request: Request) -> Response:
        await web.principal(request)
        data = await form_fields(request)
        check_csrf(request, data.get(CSRF_FIELD))
        response = RedirectResponse(f"{UI_PREFIX}/signin", status_code=303)
        clear_session(response)
        return response

    return [
        Route(f"{UI_PREFIX}/signin", show, methods=["GET"]),
        Route(f"{UI_PREFIX}/signin", submit, methods=["POST"]),
        Route(f"{UI_PREFIX}/signout", signout, methods=["POST"]),
    ]
