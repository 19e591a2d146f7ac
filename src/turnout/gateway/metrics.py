"""Prometheus metrics of one gateway process, on a registry of its own.

Label children are cached per (alias, version, arm) so the hot path pays a dict
lookup and an observe, not prometheus-client's label resolution. Feedback is
counted by its ``source``, a client-chosen string: past
:data:`FEEDBACK_SOURCES_MAX` distinct values the rest count as ``other``, so a
client cannot blow up the number of series.

With several worker processes behind one port (``turnout serve --workers N``) a
scrape reaches whichever worker accepts it, so per-process metrics would show one
worker's share, different on every scrape. ``serve`` then points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before the workers start, and
prometheus-client's multi-process mode keeps every value in a memory-mapped file
there: counters and histograms are summed over the workers at scrape time, each
gauge is combined by the ``multiprocess_mode`` it declares (queue sizes summed,
the snapshot marker the oldest worker's, ages and breaker states the worst). Gauges
copied from their owners (queue sizes, snapshot age) are refreshed every second in
every worker, so a scrape does not read another worker's stale copy.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = [
    "CONTENT_TYPE_LATEST",
    "FEEDBACK_SOURCES_MAX",
    "MULTIPROCESS_ENV",
    "GatewayMetrics",
    "multiprocess_enabled",
]

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus-client's switch: set before the process imports it, values live in files there."""


def multiprocess_enabled() -> bool:
    """Whether this process keeps its metric values in prometheus-client's shared files."""
    return MULTIPROCESS_ENV in os.environ or "prometheus_multiproc_dir" in os.environ


FEEDBACK_SOURCES_MAX = 32
"""Distinct ``source`` labels of ``turnout_feedback_total`` before ``other``."""

_LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)


class _Series:
    """The label children of one (alias, version, arm), resolved once."""

    __slots__ = ("errors", "latency", "requests", "ttft")

    def __init__(self, metrics: GatewayMetrics, alias: str, version: str, arm: str) -> None:
        labels = {"alias": alias, "version": version, "arm": arm}
        self.requests = metrics.requests.labels(**labels)
        self.errors = metrics.errors.labels(**labels)
        self.latency = metrics.latency.labels(**labels)
        self.ttft = metrics.ttft.labels(**labels)


class GatewayMetrics:
    def __init__(self) -> None:
        self.multiprocess = multiprocess_enabled()
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("alias", "version", "arm")
        self.requests = Counter(
            "turnout_requests",
            "Requests served, by alias, version and arm.",
            labels,
            registry=self.registry,
        )
        self.errors = Counter(
            "turnout_request_errors",
            "Requests that ended in an error.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "turnout_request_latency_seconds",
            "Time from request to last byte.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.ttft = Histogram(
            "turnout_time_to_first_token_seconds",
            "Time to the first streamed token.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rejected = Counter(
            "turnout_rejected_requests",
            "Requests refused before any provider call.",
            ("reason",),
            registry=self.registry,
        )
        self.log_dropped = Gauge(
            "turnout_request_log_dropped",
            "Request-log records dropped (queue full).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.log_pending = Gauge(
            "turnout_request_log_pending",
            "Request-log records waiting to be written.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.snapshot_marker = Gauge(
            "turnout_snapshot_marker",
            "Registry change marker of the routing snapshot served.",
            registry=self.registry,
            multiprocess_mode="livemin",
        )
        self.snapshot_age = Gauge(
            "turnout_snapshot_age_seconds",
            "Seconds since the snapshot was confirmed current.",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self.degraded = Gauge(
            "turnout_degraded",
            "1 while the registry is unreachable (serving the last snapshot).",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self.feedback = Counter(
            "turnout_feedback",
            "Feedback scores stored, by source.",
            ("source",),
            registry=self.registry,
        )
        self.feedback_refused = Counter(
            "turnout_feedback_refused",
            "Feedback not stored: invalid input or the store unreachable.",
            ("code",),
            registry=self.registry,
        )
        self.canary_weight = Gauge(
            "turnout_rollout_canary_percent",
            "Percent of an alias's traffic buckets on its rollout's canary (0: no rollout).",
            ("alias",),
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self.shadow_requests = Counter(
            "turnout_shadow_requests",
            "Shadow copies sent to a candidate, by outcome (ok or error).",
            ("alias", "candidate", "outcome"),
            registry=self.registry,
        )
        self.shadow_dropped = Counter(
            "turnout_shadow_dropped",
            "Sampled shadow copies not sent: queue_full, rate_limited, over_budget, stopping.",
            ("alias", "candidate", "reason"),
            registry=self.registry,
        )
        self.shadow_pending = Gauge(
            "turnout_shadow_pending",
            "Shadow copies queued, waiting for a worker.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.shadow_pairs_dropped = Gauge(
            "turnout_shadow_pairs_dropped",
            "Shadow pairs not stored (writer queue full).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.breaker_state = Gauge(
            "turnout_breaker_state",
            "Circuit breaker per version: 0 closed, 1 half-open, 2 open.",
            ("version",),
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self.breaker_transitions = Counter(
            "turnout_breaker_transitions",
            "Breaker state changes per version, by the state entered.",
            ("version", "state"),
            registry=self.registry,
        )
        self.fallbacks = Counter(
            "turnout_fallbacks",
            "Requests served by a fallback, by alias, the version skipped and why.",
            ("alias", "skipped", "reason"),
            registry=self.registry,
        )
        self.days_to_retirement = Gauge(
            "turnout_version_days_to_retirement",
            "Days until a registered version is shut off by its provider (negative: past).",
            ("version",),
            registry=self.registry,
            multiprocess_mode="livemin",
        )
        self._feedback_sources: set[str] = set()
        self._series: dict[tuple[str, str, str], _Series] = {}
        self._collect_hooks: list[Callable[[GatewayMetrics], None]] = []

    def series(self, alias: str, version: str, arm: str) -> _Series:
        key = (alias, version, arm)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = _Series(self, alias, version, arm)
        return found

    def count_feedback(self, source: str) -> None:
        """One stored feedback score, labelled by a bounded set of sources."""
        if source not in self._feedback_sources:
            if len(self._feedback_sources) >= FEEDBACK_SOURCES_MAX:
                source = "other"
            else:
                self._feedback_sources.add(source)
        self.feedback.labels(source=source).inc()

    def on_collect(self, hook: Callable[[GatewayMetrics], Any]) -> None:
        """Run ``hook`` before each scrape, to copy gauges from their owners."""
        self._collect_hooks.append(hook)

    def refresh(self) -> None:
        """Copy the gauges from their owners (the hooks of :meth:`on_collect`)."""
        for hook in self._collect_hooks:
            hook(self)

    def render(self) -> bytes:
        """The exposition text: this process's metrics, or every worker's combined."""
        self.refresh()
        if not self.multiprocess:
            return generate_latest(self.registry)
        combined = CollectorRegistry()
        MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        return generate_latest(combined)
