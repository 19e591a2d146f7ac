"""Provider adapters: one file per wire protocol, behind one Protocol.

The gateway depends only on :mod:`turnout.providers.base` (the request, answer
and :class:`ChatProvider` seam) and on a :class:`ProviderRegistry` built by the
composition root. Adapters register by kind in :mod:`turnout.providers.registry`;
none is imported until used, and importing this package creates nothing.
"""

from __future__ import annotations

from turnout.providers.base import (
    ChatChunk,
    ChatCompletion,
    ChatProvider,
    ChatRequest,
    JsonObject,
    Usage,
    completion_text,
    message_text,
    upstream_params,
    usage_of,
)
from turnout.providers.registry import (
    BUILTIN_FACTORIES,
    ProviderFactory,
    ProviderRegistry,
    builtin_registry,
)

__all__ = [
    "BUILTIN_FACTORIES",
    "ChatChunk",
    "ChatCompletion",
    "ChatProvider",
    "ChatRequest",
    "JsonObject",
    "ProviderFactory",
    "ProviderRegistry",
    "Usage",
    "builtin_registry",
    "completion_text",
    "message_text",
    "upstream_params",
    "usage_of",
]
