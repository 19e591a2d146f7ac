"""turnout: model versioning for production AI.

Pinned model versions, aliases resolved on every request, instant audited
rollback. Start with :func:`connect`::

    import turnout
    client = turnout.connect("sqlite:///turnout.db")
    client.resolve("prod-chat").version   # 'openai/gpt-4o-2024-11-20'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from turnout.errors import (
    AuthenticationFailed,
    CheckFailed,
    ConfigError,
    Conflict,
    FloatingVersionError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ProviderError,
    ProviderTimeout,
    StoreUnavailable,
    TurnoutError,
)

if TYPE_CHECKING:
    from turnout.client import TurnoutClient

__all__ = [
    "AuthenticationFailed",
    "CheckFailed",
    "ConfigError",
    "Conflict",
    "FloatingVersionError",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "ProviderError",
    "ProviderTimeout",
    "StoreUnavailable",
    "TurnoutError",
    "__version__",
    "connect",
]

__version__ = "0.1.0"


def connect(url: str | None = None, token: str | None = None) -> TurnoutClient:
    """A client for the registry at ``url``.

    A database URL (``sqlite:///...``, ``postgresql+psycopg://...``) acts directly
    on the store as the local admin; an ``http(s)://`` URL uses the admin API and
    needs ``token`` (or ``$TURNOUT_TOKEN``). ``None`` means ``$TURNOUT_DB`` or
    ``sqlite:///turnout.db``.
    """
    from turnout.wiring import connect_client

    return connect_client(url, token)
