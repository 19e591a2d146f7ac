"""One pooled adapter per provider endpoint configuration, for the process's life.

Adapters hold connection pools, so they are created on first use and reused by
every request; a changed configuration (new base URL) gets a new adapter, and
all of them are closed when the server stops.
"""

from __future__ import annotations

import contextlib

from turnout.domain.providers import ProviderConfig
from turnout.providers.base import ChatProvider
from turnout.providers.registry import ProviderRegistry

__all__ = ["ProviderPool"]


class ProviderPool:
    def __init__(self, registry: ProviderRegistry) -> None:
        self._registry = registry
        self._adapters: dict[ProviderConfig, ChatProvider] = {}

    def get(self, config: ProviderConfig) -> ChatProvider:
        adapter = self._adapters.get(config)
        if adapter is None:
            adapter = self._adapters[config] = self._registry.create(config)
        return adapter

    async def aclose(self) -> None:
        adapters, self._adapters = list(self._adapters.values()), {}
        for adapter in adapters:
            with contextlib.suppress(Exception):
                await adapter.aclose()
