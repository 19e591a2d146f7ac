"""Server-sent events as OpenAI streams them: ``data: {json}\\n\\n`` then ``data: [DONE]``.

Kept beside the adapters because both sides of a stream need it: the sim server
writes it, and OpenAI-compatible adapters (and the gateway) read or re-emit it.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

__all__ = ["SSE_DONE", "SSE_HEADERS", "encode_sse_data"]

SSE_DONE = b"data: [DONE]\n\n"
"""The sentinel event that ends an OpenAI stream."""

SSE_HEADERS: Mapping[str, str] = {"cache-control": "no-cache", "x-accel-buffering": "no"}
"""Response headers that keep proxies from buffering a stream."""


def encode_sse_data(payload: Mapping[str, object]) -> bytes:
    """One ``data:`` event; orjson never emits a newline, so one line is enough."""
    return b"data: " + orjson.dumps(payload) + b"\n\n"
