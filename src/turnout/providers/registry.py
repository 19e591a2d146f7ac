"""Which adapter serves which :class:`~turnout.domain.providers.ProviderKind`.

A new adapter is a new file with a factory ``(ProviderConfig) -> ChatProvider``
and one line in :data:`BUILTIN_FACTORIES`; nothing else branches on the kind.
Built-ins are named by import path and imported on first use, so starting the
CLI does not pay for aiohttp or an adapter the registry never calls.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import cast

from turnout.domain.providers import ProviderConfig, ProviderKind
from turnout.errors import Conflict, InvalidInput
from turnout.providers.base import ChatProvider

__all__ = ["BUILTIN_FACTORIES", "ProviderFactory", "ProviderRegistry", "builtin_registry"]

ProviderFactory = Callable[[ProviderConfig], ChatProvider]
"""Builds the adapter for one configured provider endpoint."""

BUILTIN_FACTORIES: Mapping[ProviderKind, str] = {
    ProviderKind.ANTHROPIC: "turnout.providers.anthropic:create_anthropic_provider",
    ProviderKind.OPENAI: "turnout.providers.openai_compat:create_openai_provider",
    ProviderKind.SIM: "turnout.providers.sim:create_sim_provider",
}
"""``module:function`` of each built-in factory, imported when first used."""


def _lazy(target: str) -> ProviderFactory:
    """A factory that imports ``module:function`` when it is first called."""

    def factory(config: ProviderConfig) -> ChatProvider:
        module_name, _, attribute = target.partition(":")
        real = cast(ProviderFactory, getattr(importlib.import_module(module_name), attribute))
        return real(config)

    return factory


class ProviderRegistry:
    """Kind -> factory; one per composition root, never a module global."""

    def __init__(self) -> None:
        self._factories: dict[ProviderKind, ProviderFactory] = {}

    def register(self, kind: ProviderKind, factory: ProviderFactory) -> None:
        """Add the adapter for ``kind``; a second registration is a mistake, not an override."""
        if kind in self._factories:
            raise Conflict(f"a provider adapter for kind '{kind}' is already registered")
        self._factories[kind] = factory

    def kinds(self) -> frozenset[ProviderKind]:
        return frozenset(self._factories)

    def create(self, config: ProviderConfig) -> ChatProvider:
        """Build the adapter for ``config``; the caller owns it and must ``aclose`` it."""
        factory = self._factories.get(config.kind)
        if factory is None:
            known = ", ".join(sorted(kind.value for kind in self._factories)) or "none"
            raise InvalidInput(
                f"provider '{config.name}': no adapter for kind '{config.kind}' "
                f"(available: {known})"
            )
        return factory(config)


def builtin_registry() -> ProviderRegistry:
    """A registry with every adapter that ships with turnout."""
    registry = ProviderRegistry()
    for kind, target in BUILTIN_FACTORIES.items():
        registry.register(kind, _lazy(target))
    return registry
