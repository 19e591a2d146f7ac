"""The one translation of errors into HTTP: status, OpenAI-shaped body, handlers.

Every error response of the app, whatever raised it, has the shape the OpenAI
SDKs already know how to read::

    {"error": {"message": "...", "type": "invalid_request_error", "code": "not_found"}}

``code`` is :attr:`turnout.errors.TurnoutError.code`, so a client (``http_client``)
can raise the very same exception class again. The status comes from
:func:`turnout.errors.http_status_for`; nothing else in the gateway picks one.
Request validation and malformed JSON are *our* 400 with a one-line message that
names the field, not FastAPI's 422 list, and an unexpected exception is a 500
that says nothing about the internals (the traceback goes to the log).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from turnout.errors import (
    ConfigError,
    FloatingVersionError,
    InvalidInput,
    TurnoutError,
    http_status_for,
)

__all__ = [
    "WWW_AUTHENTICATE",
    "describe_validation_errors",
    "error_body",
    "error_payload",
    "error_response",
    "error_type_for",
    "install_error_handlers",
]

log = logging.getLogger(__name__)

WWW_AUTHENTICATE = 'Bearer realm="turnout"'
"""Sent with every 401 (RFC 6750), so clients know which credentials to offer."""

_HTTP_CODES: Mapping[int, str] = {404: "not_found", 405: "method_not_allowed"}


def error_type_for(status: int) -> str:
    """OpenAI's ``type`` field for a status: what kind of mistake, not which one."""
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def error_body(
    message: str, status: int, code: str, extra: Mapping[str, object] | None = None
) -> dict[str, object]:
    """The OpenAI error envelope; ``extra`` adds machine-readable detail inside it."""
    return {
        "error": {"message": message, "type": error_type_for(status), "code": code, **(extra or {})}
    }


def _details(error: TurnoutError) -> dict[str, object]:
    """Fields a client needs to rebuild the exception exactly, beyond its message."""
    if isinstance(error, FloatingVersionError):
        return {"version_id": error.version_id, "suggestions": list(error.suggestions)}
    if isinstance(error, ConfigError):
        return {"path": error.path, "line": error.line}
    return {}


def error_payload(error: TurnoutError) -> dict[str, object]:
    """The OpenAI error envelope for any :class:`TurnoutError` (status from the tree)."""
    return error_body(error.message, http_status_for(error), error.code, _details(error))


def error_response(error: TurnoutError, param: str | None = None) -> JSONResponse:
    """The response for any :class:`TurnoutError`; 401s carry ``WWW-Authenticate``."""
    status = http_status_for(error)
    extra = _details(error)
    if param is not None:
        extra["param"] = param
    headers = {"WWW-Authenticate": WWW_AUTHENTICATE} if status == 401 else None
    return JSONResponse(error_body(error.message, status, error.code, extra), status, headers)


def _field(loc: Sequence[Any]) -> tuple[str, str]:
    """('where', 'dotted.field') from a pydantic location such as ('body', 'fallbacks', 0)."""
    where, *path = loc or ("body",)
    names = {
        "body": "request body",
        "query": "query parameter",
        "path": "path parameter",
        "header": "header",
    }
    return names.get(str(where), str(where)), ".".join(str(part) for part in path)


def describe_validation_errors(errors: Sequence[Mapping[str, Any]]) -> tuple[str, str | None]:
    """One line naming the first bad field (and how many more), and that field's name."""
    if not errors:
        return "invalid request", None
    first = errors[0]
    kind = str(first.get("type", ""))
    where, field = _field(first.get("loc", ()))
    if kind == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "invalid JSON")
        message = f"request body is not valid JSON: {reason} (at character {field or 0})"
        return message, None
    if not field and where == "request body":
        if kind == "missing":
            return "request body is required: send a JSON object", None
        return (
            "request body must be a JSON object sent with Content-Type: application/json",
            None,
        )
    if kind == "missing":
        message = f"{where} '{field}' is required"
    elif kind == "extra_forbidden":
        message = f"{where} '{field}' is not a known field"
    else:
        message = f"{where} '{field}': {first.get('msg', 'is invalid')}"
    more = len(errors) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return message, field or None


async def _turnout_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TurnoutError)
    return error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    message, param = describe_validation_errors(exc.errors())
    return error_response(InvalidInput(message), param)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing's 404/405 (and any stray HTTPException) in the same envelope."""
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    code = _HTTP_CODES.get(status, "invalid_request" if status < 500 else "internal_error")
    message = str(exc.detail)
    if status == 404:
        message = f"no route {request.method} {request.url.path}"
    elif status == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    return JSONResponse(error_body(message, status, code), status, exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    """A bug: log it under an id the caller can quote, and tell them nothing else."""
    incident = secrets.token_hex(4)
    log.error(
        "unexpected error %s on %s %s", incident, request.method, request.url.path, exc_info=exc
    )
    message = f"internal server error (incident {incident}); the details are in the server log"
    return JSONResponse(error_body(message, 500, "internal_error"), 500)


def _document_400_not_422(app: FastAPI) -> None:
    """Make the OpenAPI document say what the handlers do: invalid requests are 400."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    responses = operation.get("responses", {})
                    if responses.pop("422", None) is not None:
                        responses.setdefault("400", {"description": "Invalid request"})
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers: the one place the app decides how an error looks."""
    app.add_exception_handler(TurnoutError, _turnout_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    _document_400_not_422(app)
