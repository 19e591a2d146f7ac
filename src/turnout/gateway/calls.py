"""Calling one route's provider, with every failure turned into a TurnoutError value.

The chat path tries a route, maybe a fallback after it; returning errors as
values (rather than raising) keeps that sequence flat and makes sure an adapter
bug — an exception that is not a TurnoutError — is logged once and answered as
a 502 like any upstream failure.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from turnout.errors import ProviderError, TurnoutError
from turnout.gateway.routing import Route
from turnout.providers.base import ChatRequest

__all__ = ["adapter_failure", "call_route", "close_stream", "open_stream"]

log = logging.getLogger(__name__)


def adapter_failure(route: Route, exc: Exception) -> ProviderError:
    """An adapter bug or an unconverted library error: a 502, logged with its traceback."""
    log.exception("provider adapter for %s raised %s", route.version, type(exc).__name__)
    return ProviderError(f"{route.version}: the provider adapter failed ({type(exc).__name__})")


async def call_route(
    route: Route, request: ChatRequest
) -> tuple[dict[str, Any] | None, TurnoutError | None]:
    try:
        return await route.provider.complete(request), None
    except TurnoutError as exc:
        return None, exc
    except Exception as exc:
        return None, adapter_failure(route, exc)


async def open_stream(
    route: Route, request: ChatRequest
) -> tuple[AsyncIterator[dict[str, Any]], dict[str, Any] | None, TurnoutError | None]:
    """Start the stream and wait for its first chunk (None: it ended at once)."""
    chunks = route.provider.stream(request)
    try:
        return chunks, await anext(chunks), None
    except StopAsyncIteration:
        return chunks, None, None
    except TurnoutError as exc:
        return chunks, None, exc
    except Exception as exc:
        return chunks, None, adapter_failure(route, exc)


async def close_stream(chunks: AsyncIterator[dict[str, Any]]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
