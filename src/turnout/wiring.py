"""The composition root: the one place that builds stores, services and apps.

Importing turnout creates nothing; the CLI, the server, the SDK and the tests all
call these functions to get fully wired objects.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from turnout.domain.catalog import Catalog
from turnout.domain.providers import ProviderConfig, ProviderKind
from turnout.domain.versions import ParamValue
from turnout.ports import Clock
from turnout.services.context import ServiceContext, system_clock
from turnout.services.registry import Registry

if TYPE_CHECKING:
    from turnout.client import TurnoutClient

__all__ = [
    "DB_ENV",
    "DEFAULT_DB_URL",
    "TOKEN_ENV",
    "check_adapter_params",
    "connect_client",
    "default_db_url",
    "open_registry",
]

DEFAULT_DB_URL = "sqlite:///turnout.db"
DB_ENV = "TURNOUT_DB"


def default_db_url() -> str:
    """``$TURNOUT_DB`` if set, else the SQLite file ``turnout.db`` in the working directory."""
    return os.environ.get(DB_ENV) or DEFAULT_DB_URL


def check_adapter_params(provider: ProviderConfig, params: Mapping[str, ParamValue]) -> None:
    """Reject params the provider's adapter would refuse, at registration time."""
    if provider.kind is ProviderKind.SIM:
        from turnout.providers.sim_brain import SimParams

        SimParams.parse(params)


def open_registry(
    db_url: str, clock: Clock = system_clock, catalog: Catalog | None = None, migrate: bool = True
) -> Registry:
    """Open the store at ``db_url`` (migrating it) and wire the registry services."""
    from turnout.catalog_file import load_bundled_catalog
    from turnout.store import open_store

    store = open_store(db_url, migrate=migrate)
    context = ServiceContext(store, catalog or load_bundled_catalog(), clock, check_adapter_params)
    return Registry(context)


TOKEN_ENV = "TURNOUT_TOKEN"


def connect_client(url: str | None = None, token: str | None = None) -> TurnoutClient:
    """The SDK client for ``url``: local for database URLs, HTTP for ``http(s)://``."""
    target = url or default_db_url()
    if target.startswith(("http://", "https://")):
        from turnout.http_client import HttpClient

        return HttpClient(target, token or os.environ.get(TOKEN_ENV))
    from turnout.client import LocalClient

    return LocalClient(open_registry(target))
