"""Who is signed in to the dashboard, and the CSRF token that proves a form is ours.

The session *is* the API token: sign-in checks it with the same
:class:`~turnout.services.tokens.TokenService` the admin API uses and keeps it in
an HTTP-only, ``SameSite=Strict`` cookie scoped to ``/ui``, so every request is
authenticated afresh (a revoked token signs its holder out on the next click) and
no session table is needed: any replica can serve any page.

The CSRF token is an HMAC of the session token, so it is fixed for the session,
needs no server state, and cannot be computed by a page that does not hold the
HTTP-only cookie. Before sign-in there is no session yet, so the sign-in form uses
a random double-submit cookie instead (login CSRF would otherwise sign a victim in
as the attacker).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from turnout.domain.access import Principal
from turnout.errors import AuthenticationFailed, PermissionDenied
from turnout.services.tokens import TokenService

__all__ = [
    "CSRF_FIELD",
    "PRE_CSRF_COOKIE",
    "SESSION_COOKIE",
    "UI_PREFIX",
    "check_csrf",
    "check_pre_csrf",
    "clear_session",
    "csrf_token",
    "new_pre_csrf",
    "safe_next",
    "session_principal",
    "set_pre_csrf",
    "start_session",
]

UI_PREFIX = "/ui"
SESSION_COOKIE = "turnout_session"
PRE_CSRF_COOKIE = "turnout_signin_csrf"
CSRF_FIELD = "csrf"
_CSRF_CONTEXT = b"turnout-ui-csrf-v1"


def csrf_token(secret: str) -> str:
    """The CSRF token of the session whose API token is ``secret``."""
    return hmac.new(secret.encode("utf-8"), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def start_session(request: Request, response: Response, secret: str) -> None:
    """Keep ``secret`` in the session cookie (HTTP-only: page scripts never see it)."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        path=UI_PREFIX,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(PRE_CSRF_COOKIE, path=UI_PREFIX)


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=UI_PREFIX, httponly=True, samesite="strict")


async def session_principal(request: Request, tokens: TokenService) -> Principal:
    """The signed-in principal; :class:`AuthenticationFailed` when there is none."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise AuthenticationFailed("sign in with an API token to use the dashboard")
    principal = await run_in_threadpool(tokens.authenticate, secret)
    request.state.principal = principal
    request.state.csrf = csrf_token(secret)
    return principal


def check_csrf(request: Request, submitted: object) -> None:
    """Refuse a write whose form does not carry this session's CSRF token (403)."""
    expected = getattr(request.state, "csrf", None)
    if (
        not isinstance(expected, str)
        or not isinstance(submitted, str)
        or not hmac.compare_digest(expected, submitted)
    ):
        raise PermissionDenied("the form's CSRF token is missing or wrong: reload the page")


def new_pre_csrf() -> str:
    """A fresh double-submit token for the sign-in form (see :func:`set_pre_csrf`)."""
    return secrets.token_urlsafe(24)


def set_pre_csrf(request: Request, response: Response, token: str) -> None:
    """Send the sign-in form's token as a cookie too: the POST must carry both, equal."""
    response.set_cookie(
        PRE_CSRF_COOKIE,
        token,
        path=UI_PREFIX,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def check_pre_csrf(request: Request, submitted: object) -> None:
    """The sign-in form's token must match its cookie (403 otherwise)."""
    expected = request.cookies.get(PRE_CSRF_COOKIE)
    if (
        not expected
        or not isinstance(submitted, str)
        or not hmac.compare_digest(expected, submitted)
    ):
        raise PermissionDenied("the sign-in form's CSRF token is missing or wrong: reload it")


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a dashboard path only, never another site."""
    default = f"{UI_PREFIX}/aliases"
    if not target or not target.startswith(f"{UI_PREFIX}/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 0x20 for ch in target):
        return default
    return target
