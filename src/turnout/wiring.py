"""The composition root: the one place that builds stores, services and apps.

Importing turnout creates nothing; the CLI, the server, the SDK and the tests all
call these functions to get fully wired objects.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from turnout.domain.breaker import BreakerConfig
from turnout.domain.catalog import Catalog
from turnout.domain.providers import ProviderConfig, ProviderKind
from turnout.domain.versions import ParamValue
from turnout.ports import Clock, RegistryStore
from turnout.services.context import ServiceContext, system_clock
from turnout.services.registry import Registry
from turnout.wiring_health import (
    BREAKER_ENV,
    PROBE_INTERVAL_ENV,
    PROBE_SUITE_ENV,
    PROBE_TOLERANCE_ENV,
    breaker_from_env,
    build_failover,
    build_probes,
)

if TYPE_CHECKING:
    from turnout.client import TurnoutClient
    from turnout.gateway.asgi import TurnoutASGI
    from turnout.providers.caller import ProviderModelCaller
    from turnout.services.controller import RolloutController
    from turnout.services.evals import EvalService

__all__ = [
    "BREAKER_ENV",
    "DB_ENV",
    "DEFAULT_DB_URL",
    "PROBE_INTERVAL_ENV",
    "PROBE_SUITE_ENV",
    "PROBE_TOLERANCE_ENV",
    "SNAPSHOT_ENV",
    "TOKEN_ENV",
    "WEBHOOKS_ENV",
    "breaker_from_env",
    "build_eval_service",
    "build_model_caller",
    "build_probes",
    "build_server_app",
    "check_adapter_params",
    "connect_client",
    "default_db_url",
    "default_snapshot_path",
    "effective_catalog_of",
    "open_registry",
    "webhooks_from_env",
]

DEFAULT_DB_URL = "sqlite:///turnout.db"
DB_ENV = "TURNOUT_DB"


def default_db_url() -> str:
    """``$TURNOUT_DB`` if set, else the SQLite file ``turnout.db`` in the working directory."""
    return os.environ.get(DB_ENV) or DEFAULT_DB_URL


SNAPSHOT_ENV = "TURNOUT_SNAPSHOT_FILE"
DEFAULT_SNAPSHOT_FILE = ".turnout/snapshot.json"


def default_snapshot_path(db_url: str | None = None) -> Path:
    """Where a gateway keeps its last good routing snapshot.

    ``$TURNOUT_SNAPSHOT_FILE`` if set; else ``.turnout/snapshot-<digest>.json``
    named after the registry URL (password excluded), so gateways of two
    registries started in one directory never serve each other's snapshot.
    """
    explicit = os.environ.get(SNAPSHOT_ENV)
    if explicit:
        return Path(explicit)
    if db_url is None:
        return Path(DEFAULT_SNAPSHOT_FILE)
    from turnout.store.engine import normalise_url, safe_url

    digest = hashlib.sha256(safe_url(normalise_url(db_url)).encode()).hexdigest()[:12]
    return Path(DEFAULT_SNAPSHOT_FILE).with_name(f"snapshot-{digest}.json")


def check_adapter_params(provider: ProviderConfig, params: Mapping[str, ParamValue]) -> None:
    """Reject params the provider's adapter would refuse, at registration time."""
    if provider.kind is ProviderKind.SIM:
        from turnout.providers.sim_brain import SimParams

        SimParams.parse(params)


def open_registry(
    db_url: str, clock: Clock = system_clock, catalog: Catalog | None = None, migrate: bool = True
) -> Registry:
    """Open the store at ``db_url`` (migrating it) and wire the registry services.

    The services get the *effective* catalog: ``catalog`` (default: the bundled
    file) with the updates stored by ``turnout catalog update`` merged in, so
    pinning rules, prices and retirement dates agree in every process.
    """
    from turnout.catalog_file import load_bundled_catalog
    from turnout.store import open_store

    store = open_store(db_url, migrate=migrate)
    base = catalog or load_bundled_catalog()
    context = ServiceContext(store, effective_catalog_of(store, base), clock, check_adapter_params)
    return Registry(context)


def effective_catalog_of(store: RegistryStore, base: Catalog) -> Catalog:
    """``base`` with ``store``'s catalog overrides merged in; ``base`` if they cannot be read.

    A gateway starting while the store is down (fail-static) still needs a
    catalog: it gets the bundled one, and the services merge the overrides
    afresh on every read once the store answers.
    """
    from turnout.domain.catalog_merge import effective_catalog
    from turnout.errors import TurnoutError

    try:
        with store.unit_of_work() as uow:
            overrides = uow.catalog.overrides()
    except TurnoutError:
        return base
    return effective_catalog(base, overrides)


WEBHOOKS_ENV = "TURNOUT_WEBHOOKS"
"""Comma-separated webhook URLs (Slack-compatible) for registry-wide notices: deprecations."""


def webhooks_from_env() -> tuple[str, ...]:
    """The registry-level webhook URLs of ``$TURNOUT_WEBHOOKS`` (none if unset)."""
    raw = os.environ.get(WEBHOOKS_ENV, "")
    return tuple(url.strip() for url in raw.split(",") if url.strip())


TOKEN_ENV = "TURNOUT_TOKEN"


def connect_client(url: str | None = None, token: str | None = None) -> TurnoutClient:
    """The SDK client for ``url``: local for database URLs, HTTP for ``http(s)://``."""
    target = url or default_db_url()
    if target.startswith(("http://", "https://")):
        from turnout.http_client import HttpClient

        return HttpClient(target, token or os.environ.get(TOKEN_ENV))
    from turnout.client import LocalClient

    return LocalClient(open_registry(target))


def build_server_app(
    db_url: str,
    snapshot_path: Path | None = None,
    clock: Clock = system_clock,
    run_controller: bool = False,
    shadow_queue: int = 1024,
    shadow_concurrency: int = 16,
    breaker: BreakerConfig | None = None,
) -> TurnoutASGI:
    """The whole ``turnout serve`` app: gateway, probes, metrics, admin API and dashboard.

    If the store is down at start-up the app still starts: the snapshot feed
    serves the snapshot file it last wrote (fail-static) and catches up when the
    store returns; migrations run then on the next start. ``shadow_queue`` and
    ``shadow_concurrency`` bound the shadow copies waiting and in flight per process;
    ``breaker`` sets the circuit breakers' thresholds (default: ``TURNOUT_BREAKER``).
    """
    from turnout.domain.shadow import ShadowPair
    from turnout.errors import StoreUnavailable
    from turnout.gateway.app import build_app
    from turnout.gateway.asgi import TurnoutASGI
    from turnout.gateway.chat import ChatGateway
    from turnout.gateway.deprecations import DeprecationWatch
    from turnout.gateway.feedback import FeedbackEndpoint
    from turnout.gateway.metrics import GatewayMetrics
    from turnout.gateway.provider_pool import ProviderPool
    from turnout.gateway.routing import Router
    from turnout.gateway.shadow import ShadowDispatcher, ShadowRuntime
    from turnout.providers.registry import builtin_registry
    from turnout.services.request_log import BatchWriter, RequestLogWriter
    from turnout.services.snapshot_feed import SnapshotFeed
    from turnout.store.notify import change_listener_factory
    from turnout.web.app import build_web_app

    try:
        registry = open_registry(db_url, clock)
    except StoreUnavailable:
        registry = open_registry(db_url, clock, migrate=False)
    store = registry.ctx.store
    feed = SnapshotFeed(
        store,
        clock,
        listener_factory=change_listener_factory(db_url),
        snapshot_path=snapshot_path or default_snapshot_path(db_url),
    )
    pool = ProviderPool(builtin_registry())
    metrics = GatewayMetrics()
    request_log = RequestLogWriter(store.log_requests)
    pairs = BatchWriter[ShadowPair](
        store.log_shadow_pairs, capacity=10_000, batch_size=500, name="shadow pairs"
    )
    dispatcher = ShadowDispatcher(
        pairs.submit, metrics, queue_size=shadow_queue, concurrency=shadow_concurrency
    )
    shadow = ShadowRuntime(dispatcher, pairs)
    router = Router(feed, pool, registry.ctx.catalog)
    failover, health_events = build_failover(store, metrics, breaker or breaker_from_env())
    chat = ChatGateway(router, request_log, metrics, shadow=shadow.dispatcher, failover=failover)
    feedback = FeedbackEndpoint(store.record_feedback, metrics, clock)
    controller = build_controller(registry) if run_controller else None

    def shutdown() -> None:
        if controller is not None:
            controller.stop()
        registry.close()

    return TurnoutASGI(
        build_app(registry),
        chat,
        feed,
        request_log,
        pool,
        metrics,
        on_shutdown=shutdown,
        feedback=feedback,
        on_startup=controller.start if controller is not None else None,
        shadow=shadow,
        writers=(health_events,),
        deprecations=DeprecationWatch(lambda: feed.current, clock, registry.ctx.catalog),
        web=build_web_app(registry),
    )


def build_controller(registry: Registry, interval_s: float = 2.0) -> RolloutController:
    """The rollout controller over ``registry``'s store, with its leader lock and webhooks."""
    import socket

    from turnout.services.controller import RolloutController
    from turnout.services.deprecations import DeprecationNotifier
    from turnout.store.leader import leader_lock
    from turnout.webhooks import HttpWebhookSender

    store = registry.ctx.store
    engine = getattr(store, "engine", None)
    if engine is None:
        raise TypeError("the rollout controller needs a SQL store")
    holder = f"{socket.gethostname()}:{os.getpid()}"
    lock = leader_lock(engine, holder, registry.ctx.clock)
    sender = HttpWebhookSender()
    notifier = DeprecationNotifier(registry.deprecations, registry.ctx, webhooks_from_env(), sender)
    return RolloutController(
        registry.rollouts,
        lock,
        sender,
        interval_s,
        deprecations=notifier,
        probes=build_probes(registry, sender),
    )


def build_model_caller(registry: Registry, stream: bool = False) -> ProviderModelCaller:
    """A :class:`~turnout.ports.ModelCaller` over ``registry``: calls registered versions
    directly (evals, judges, replay), with their provider, default params and list prices.

    The caller owns its adapters: ``await caller.aclose()`` when done.
    """
    from turnout.domain.ids import VersionId
    from turnout.domain.providers import BUILTIN_PROVIDERS
    from turnout.errors import InvalidInput, NotFound
    from turnout.providers.caller import CallTarget, ProviderModelCaller

    store, catalog = registry.ctx.store, registry.ctx.catalog

    def lookup(version: str) -> CallTarget:
        vid = VersionId.parse(version)
        with store.unit_of_work() as uow:
            found = uow.versions.get(vid)
            provider = uow.providers.get(vid.provider)
        if found is None:
            raise NotFound(f"version {version} is not registered")
        config = provider or BUILTIN_PROVIDERS.get(vid.provider)
        if config is None:
            raise InvalidInput(f"version {version}: unknown provider '{vid.provider}'")
        entry = catalog.lookup(vid.provider, vid.model)
        return CallTarget(
            vid,
            config,
            dict(found.params),
            entry.price_in_per_mtok if entry else None,
            entry.price_out_per_mtok if entry else None,
        )

    return ProviderModelCaller(lookup, stream=stream)


def build_eval_service(registry: Registry, caller: ProviderModelCaller) -> EvalService:
    """Eval runs over ``registry``'s store, calling models through ``caller``."""
    from turnout.services.evals import EvalService

    return EvalService(registry.ctx, caller)
