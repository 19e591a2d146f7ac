"""The one exception tree of turnout.

Every error a user can cause or meet derives from :class:`TurnoutError`. Each
boundary translates this tree exactly once:

* the CLI maps it to an exit code (``cli/errors.py``): :class:`CheckFailed` -> 1,
  everything else -> 2, and prints one line, never a traceback;
* the HTTP API maps it to a status and an OpenAI-shaped error body
  (``gateway/errors.py``) through :data:`HTTP_STATUS`.

Third-party exceptions (SQLAlchemy, httpx, YAML) are converted where they are
raised, with ``raise ... from exc``, so callers only ever catch this tree.

::

    TurnoutError
    ├── InvalidInput            bad id, bad alias name, bad param, bad config   (400)
    │   ├── FloatingVersionError  a floating id where a pinned one is required  (400)
    │   └── ConfigError           turnout.yaml schema error, with a line number (400)
    ├── NotFound                unknown version, alias, token, revision         (404)
    ├── Conflict                compare-and-set lost, duplicate name            (409)
    │   └── PromotionRefused      the alias's promotion policy lacks evidence   (409)
    ├── AuthenticationFailed    missing, unknown, expired or revoked token      (401)
    ├── PermissionDenied        role too low, reason missing on protected alias (403)
    ├── StoreUnavailable        database locked, down, or not migrated          (503)
    ├── ProviderError           the upstream model failed (5xx, reset, bad body) (502)
    │   └── ProviderTimeout       the upstream model did not answer in time     (504)
    └── CheckFailed             a check ran and found problems (audit, plan)    (exit 1)
"""

from __future__ import annotations

__all__ = [
    "HTTP_STATUS",
    "AuthenticationFailed",
    "CheckFailed",
    "ConfigError",
    "Conflict",
    "FloatingVersionError",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "PromotionRefused",
    "ProviderError",
    "ProviderTimeout",
    "StoreUnavailable",
    "TurnoutError",
    "http_status_for",
]


class TurnoutError(Exception):
    """Base of every error turnout raises on purpose.

    ``code`` is a stable machine-readable name, used in JSON output and in the
    HTTP error body's ``code`` field.
    """

    code = "turnout_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(TurnoutError):
    """The caller asked for something malformed; nothing was written."""

    code = "invalid_input"


class FloatingVersionError(InvalidInput):
    """A floating id (``latest``, ``gpt-4o``...) where a pinned release is required."""

    code = "floating_version"

    def __init__(self, message: str, version_id: str, suggestions: tuple[str, ...]) -> None:
        super().__init__(message)
        self.version_id = version_id
        self.suggestions = suggestions


class ConfigError(InvalidInput):
    """A config file failed to parse or validate; ``line`` points at the culprit."""

    code = "config_error"

    def __init__(self, message: str, path: str, line: int | None) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class NotFound(TurnoutError):
    """The named version, alias, token or revision does not exist."""

    code = "not_found"


class Conflict(TurnoutError):
    """A concurrent writer won, or the name is taken; re-read and try again."""

    code = "conflict"


class PromotionRefused(Conflict):
    """The alias's promotion policy is not met: the message lists what evidence is missing."""

    code = "promotion_refused"


class AuthenticationFailed(TurnoutError):
    """No valid token: missing, unknown, expired or revoked."""

    code = "unauthenticated"


class PermissionDenied(TurnoutError):
    """The caller is known but may not do this (role too low, reason missing)."""

    code = "permission_denied"


class StoreUnavailable(TurnoutError):
    """The registry database cannot be reached, is locked, or is not migrated."""

    code = "store_unavailable"


class ProviderError(TurnoutError):
    """An upstream model call failed; ``retryable`` says a fallback may try again."""

    code = "provider_error"

    def __init__(self, message: str, status: int = 502, retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class ProviderTimeout(ProviderError):
    """The upstream model did not answer within its timeout."""

    code = "provider_timeout"

    def __init__(self, message: str) -> None:
        super().__init__(message, status=504, retryable=True)


class CheckFailed(TurnoutError):
    """A check ran to completion and found problems (CLI exit code 1)."""

    code = "check_failed"


HTTP_STATUS: dict[type[TurnoutError], int] = {
    InvalidInput: 400,
    NotFound: 404,
    Conflict: 409,
    AuthenticationFailed: 401,
    PermissionDenied: 403,
    StoreUnavailable: 503,
    ProviderTimeout: 504,
    ProviderError: 502,
    CheckFailed: 422,
    TurnoutError: 500,
}


def http_status_for(error: TurnoutError) -> int:
    """The HTTP status for an error: the entry of its nearest class in the MRO."""
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500
