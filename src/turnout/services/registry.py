"""The registry's use cases gathered behind one object, as the edges see them."""

from __future__ import annotations

from turnout.services.aliases import AliasService
from turnout.services.audit import AuditService
from turnout.services.catalog import CatalogService
from turnout.services.config import ConfigService
from turnout.services.context import ServiceContext
from turnout.services.deprecations import DeprecationService
from turnout.services.health import HealthService
from turnout.services.rollouts import RolloutService
from turnout.services.shadow import ShadowService
from turnout.services.tokens import TokenService
from turnout.services.versions import VersionService

__all__ = ["Registry"]


class Registry:
    """Versions, aliases, tokens and audit over one store; built by ``turnout.wiring``."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.versions = VersionService(ctx)
        self.aliases = AliasService(ctx)
        self.tokens = TokenService(ctx)
        self.audit = AuditService(ctx)
        self.rollouts = RolloutService(ctx, self.aliases, ctx.store)
        self.shadow = ShadowService(ctx, self.aliases)
        self.health = HealthService(ctx)
        self.config = ConfigService(ctx, self.versions, self.aliases, self.rollouts)
        self.catalog = CatalogService(ctx)
        self.deprecations = DeprecationService(ctx, self.catalog)

    def close(self) -> None:
        self.ctx.store.close()
