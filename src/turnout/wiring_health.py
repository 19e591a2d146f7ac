"""The composition root's health part: breakers and failover for the gateway, probes
for the controller, configured from the environment of ``turnout serve``.

Split from :mod:`turnout.wiring` for size only; it builds, it decides nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from turnout.domain.breaker import BreakerConfig
from turnout.ports import RegistryStore
from turnout.services.registry import Registry

if TYPE_CHECKING:
    from turnout.domain.health import HealthEvent
    from turnout.gateway.failover import Failover
    from turnout.gateway.metrics import GatewayMetrics
    from turnout.services.controller import WebhookSender
    from turnout.services.probes import ProbeRunner
    from turnout.services.request_log import BatchWriter

__all__ = [
    "BREAKER_ENV",
    "PROBE_INTERVAL_ENV",
    "PROBE_SUITE_ENV",
    "PROBE_TOLERANCE_ENV",
    "breaker_from_env",
    "build_failover",
    "build_probes",
]


BREAKER_ENV = "TURNOUT_BREAKER"
"""``key=value,...`` overrides of :class:`~turnout.domain.breaker.BreakerConfig` for serve."""


def breaker_from_env(environ: Mapping[str, str] | None = None) -> BreakerConfig:
    """The breaker thresholds: defaults, overridden by ``TURNOUT_BREAKER``.

    For example ``TURNOUT_BREAKER="failure_rate=0.3,open_s=10"``; unknown keys and
    bad values are refused with InvalidInput naming them, so a typo cannot
    silently leave the defaults in force.
    """
    from dataclasses import fields, replace

    from turnout.errors import InvalidInput

    text = (os.environ if environ is None else environ).get(BREAKER_ENV, "").strip()
    config = BreakerConfig()
    if not text:
        return config
    kinds = {f.name: type(getattr(config, f.name)) for f in fields(BreakerConfig)}
    changes: dict[str, object] = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        key = key.strip()
        if key not in kinds:
            known = ", ".join(sorted(kinds))
            raise InvalidInput(f"{BREAKER_ENV}: unknown key {key!r} (known: {known})")
        try:
            changes[key] = kinds[key](value.strip())
        except ValueError:
            raise InvalidInput(f"{BREAKER_ENV}: {key} must be a number, got {value!r}") from None
    return replace(config, **changes)  # type: ignore[arg-type]


def build_failover(
    store: RegistryStore, metrics: GatewayMetrics, config: BreakerConfig
) -> tuple[Failover, BatchWriter[HealthEvent]]:
    """Breakers per version whose state changes are stored for ``turnout health``."""
    import socket
    from dataclasses import replace

    from turnout.domain.health import HealthEvent
    from turnout.gateway.failover import Failover
    from turnout.gateway.health import HealthBook
    from turnout.services.request_log import BatchWriter
    from turnout.webhooks import HttpWebhookSender

    events = BatchWriter[HealthEvent](
        store.log_health_events, capacity=10_000, batch_size=500, name="health events"
    )
    from turnout.wiring import webhooks_from_env

    source = f"{socket.gethostname()}:{os.getpid()}"
    urls = webhooks_from_env()
    sender = HttpWebhookSender() if urls else None

    def on_event(event: HealthEvent) -> None:
        events.submit(replace(event, source=source))
        if sender is not None:  # the webhook thread does the I/O, never the event loop
            text = f"turnout breaker for {event.version} on {source}: {event.detail}"
            body = {"text": text, "turnout": {"version": event.version, "state": event.state}}
            for url in urls:
                sender.send(url, body)

    health = HealthBook(config, metrics, on_event=on_event)
    return Failover(health, metrics), events


PROBE_SUITE_ENV = "TURNOUT_PROBE_SUITE"
PROBE_INTERVAL_ENV = "TURNOUT_PROBE_INTERVAL"
PROBE_TOLERANCE_ENV = "TURNOUT_PROBE_TOLERANCE"


def build_probes(registry: Registry, sender: WebhookSender | None = None) -> ProbeRunner | None:
    """Active health probes for the controller: ``TURNOUT_PROBE_SUITE`` (default: the
    packaged three-question suite) every ``TURNOUT_PROBE_INTERVAL`` seconds (default
    300; 0 turns probes off), a regression past ``TURNOUT_PROBE_TOLERANCE`` (0.1)."""
    from datetime import timedelta
    from importlib.resources import files

    from turnout.errors import InvalidInput
    from turnout.eval_file import load_suite, parse_yaml_suite
    from turnout.services.probes import ProbeRunner
    from turnout.wiring import build_model_caller, webhooks_from_env

    try:
        interval = float(os.environ.get(PROBE_INTERVAL_ENV, "300"))
        tolerance = float(os.environ.get(PROBE_TOLERANCE_ENV, "0.1"))
    except ValueError:
        raise InvalidInput(
            f"{PROBE_INTERVAL_ENV} and {PROBE_TOLERANCE_ENV} must be numbers"
        ) from None
    if interval <= 0:
        return None
    path = os.environ.get(PROBE_SUITE_ENV)
    if path:
        suite = load_suite(path)
    else:
        packaged = files("turnout") / "data" / "probe.yaml"
        suite = parse_yaml_suite(packaged.read_text(encoding="utf-8"), "probe.yaml")
    return ProbeRunner(
        registry.ctx,
        suite,
        lambda: build_model_caller(registry),
        interval=timedelta(seconds=interval),
        tolerance=tolerance,
        webhooks=sender,
        urls=webhooks_from_env(),
    )
