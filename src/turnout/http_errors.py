"""Turning the admin API's error responses back into turnout exceptions.

The HTTP client promises the same exceptions as the local client, so a caller's
``except NotFound`` works whatever the transport. The server's error body carries
:attr:`TurnoutError.code`, from which this rebuilds the class (falling back on the
HTTP status) with the server's message and the structured fields some exceptions
carry. It is its own module because it is the wire protocol's error half, and it
needs the exception hierarchy, not the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from turnout.errors import (
    HTTP_STATUS,
    ConfigError,
    FloatingVersionError,
    ProviderError,
    ProviderTimeout,
    TurnoutError,
)

__all__ = ["error_from_response"]

_STATUS_CLASSES: Mapping[int, type[TurnoutError]] = {
    status: cls for cls, status in HTTP_STATUS.items()
}


def _all_error_classes(root: type[TurnoutError]) -> list[type[TurnoutError]]:
    found = [root]
    for sub in root.__subclasses__():
        found.extend(_all_error_classes(sub))
    return found


def _class_for(code: object, status: int) -> type[TurnoutError]:
    """The exception class named by the body's ``code``, else the one the status means."""
    for cls in _all_error_classes(TurnoutError):
        if cls.code == code:
            return cls
    return _STATUS_CLASSES.get(status, TurnoutError)


def error_from_response(response: httpx.Response) -> TurnoutError:
    """Rebuild the server's exception from an error response (any status >= 400)."""
    detail: dict[str, Any] = {}
    try:
        payload = response.json()
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            detail = payload["error"]
    except ValueError:
        pass
    message = str(detail.get("message") or f"HTTP {response.status_code} from {response.url}")
    cls = _class_for(detail.get("code"), response.status_code)
    if issubclass(cls, FloatingVersionError):
        suggestions = tuple(str(s) for s in detail.get("suggestions") or ())
        return cls(message, str(detail.get("version_id", "")), suggestions)
    if issubclass(cls, ConfigError):
        path, line = str(detail.get("path", "")), detail.get("line")
        where = f"{path}:{line}" if line is not None else path
        return cls(message.removeprefix(f"{where}: "), path, line)
    if issubclass(cls, ProviderTimeout):
        return cls(message)
    if issubclass(cls, ProviderError):
        return cls(message, status=response.status_code)
    return cls(message)
