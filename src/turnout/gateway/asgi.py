"""The one ASGI application ``turnout serve`` runs: gateway, probes, metrics, admin API, UI.

Dispatch is by path, before any framework: the OpenAI routes go straight to the
raw :class:`~turnout.gateway.chat.ChatGateway`, ``/v1/feedback`` to the raw
:class:`~turnout.gateway.feedback.FeedbackEndpoint`, ``/metrics`` and ``/readyz`` are
answered here, ``/ui`` and ``/ui/...`` go to the dashboard (:mod:`turnout.web`),
and everything else (admin API, OpenAPI, ``/healthz``) goes to
the FastAPI app. The lifespan starts and stops what the process owns: the
snapshot feed, the request-log writer, the provider pool and the registry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from turnout.gateway.chat import ChatGateway
from turnout.gateway.deprecations import DeprecationWatch
from turnout.gateway.feedback import FeedbackEndpoint
from turnout.gateway.metrics import CONTENT_TYPE_LATEST, GatewayMetrics
from turnout.gateway.provider_pool import ProviderPool
from turnout.gateway.shadow import ShadowRuntime
from turnout.services.request_log import BatchWriter, RequestLogWriter

__all__ = ["FeedControl", "TurnoutASGI"]


log = logging.getLogger(__name__)

_SHUTDOWN_FLUSH_S = 5.0
_GAUGE_REFRESH_S = 1.0  # with shared (multi-worker) metrics: how stale a copied gauge may be
_CHAT_PATHS = frozenset({"/v1/chat/completions", "/v1/models"})


class FeedControl(Protocol):
    """The snapshot feed as the app sees it: start, stop, and report readiness."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def status(self) -> Mapping[str, object]: ...


class TurnoutASGI:
    def __init__(
        self,
        admin: ASGIApp,
        chat: ChatGateway,
        feed: FeedControl,
        request_log: RequestLogWriter,
        providers: ProviderPool,
        metrics: GatewayMetrics,
        on_shutdown: Callable[[], None] | None = None,
        feedback: FeedbackEndpoint | None = None,
        on_startup: Callable[[], None] | None = None,
        shadow: ShadowRuntime | None = None,
        writers: Sequence[BatchWriter[Any]] = (),
        deprecations: DeprecationWatch | None = None,
        web: ASGIApp | None = None,
    ) -> None:
        self._web = web  # the dashboard: /ui and /ui/...
        self._deprecations = deprecations  # retirement dates: /metrics gauge, /readyz detail
        self._admin = admin
        self._writers = tuple(writers)  # more batch writers run beside the request log
        self._shadow = shadow
        self._chat = chat
        self._feed = feed
        self._log = request_log
        self._providers = providers
        self._metrics = metrics
        self._on_shutdown = on_shutdown
        self._feedback = feedback
        self._on_startup = on_startup
        self._after_startup: list[Callable[[], None]] = []
        self._gauge_refresher: asyncio.Task[None] | None = None
        self._rollout_aliases: set[str] = set()
        metrics.on_collect(self._copy_gauges)

    def after_startup(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once start-up has completed (e.g. to settle the heap)."""
        self._after_startup.append(hook)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path = scope["path"]
            if path in _CHAT_PATHS:
                await self._chat(scope, receive, send)
            elif path == "/v1/feedback" and self._feedback is not None:
                await self._feedback(scope, receive, send)
            elif path == "/metrics":
                await _reply(send, 200, CONTENT_TYPE_LATEST.encode(), self._metrics.render())
            elif path == "/readyz":
                await self._readyz(send)
            elif self._web is not None and (path == "/ui" or path.startswith("/ui/")):
                await self._web(scope, receive, send)
            else:
                await self._admin(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self._admin(scope, receive, send)

    async def _readyz(self, send: Send) -> None:
        status: dict[str, object] = dict(self._feed.status())
        status["request_log"] = {
            "pending": self._log.pending,
            "dropped": self._log.dropped,
            "last_error": self._log.last_error,
        }
        if self._shadow is not None:
            status["shadow"] = self._shadow.status()
        if self._deprecations is not None:  # detail only: never changes the status code
            status["deprecations"] = self._deprecations.served()
        ready = bool(status.get("ready"))
        degraded = status.get("degraded") is not None or self._log.last_error is not None
        status["status"] = "not_ready" if not ready else ("degraded" if degraded else "ok")
        await _reply(send, 200 if ready else 503, b"application/json", orjson.dumps(status))

    def _copy_gauges(self, metrics: GatewayMetrics) -> None:
        metrics.log_dropped.set(self._log.dropped)
        metrics.log_pending.set(self._log.pending)
        if self._shadow is not None:
            self._shadow.copy_gauges(metrics)
        if self._deprecations is not None:
            self._deprecations.copy_gauges(metrics)
        status = self._feed.status()
        marker, age = status.get("marker"), status.get("snapshot_age_s")
        metrics.snapshot_marker.set(marker if isinstance(marker, int | float) else 0)
        metrics.snapshot_age.set(age if isinstance(age, int | float) else 0.0)
        metrics.degraded.set(1 if status.get("degraded") else 0)
        weights = self._chat.canary_weights()
        for alias in self._rollout_aliases - weights.keys():
            metrics.canary_weight.labels(alias=alias).set(0)  # its rollout ended
        for alias, weight in weights.items():
            metrics.canary_weight.labels(alias=alias).set(weight / 100)
        self._rollout_aliases |= weights.keys()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._feed.start()
                    self._log.start()
                    for writer in self._writers:
                        writer.start()
                    if self._shadow is not None:
                        self._shadow.start()
                    if self._on_startup is not None:
                        self._on_startup()
                    if self._metrics.multiprocess:
                        self._gauge_refresher = asyncio.get_running_loop().create_task(
                            self._refresh_gauges(), name="gauge-refresher"
                        )
                    for hook in self._after_startup:
                        hook()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._gauge_refresher is not None:
                    self._gauge_refresher.cancel()
                try:  # a store that is down or locked must not hold shutdown hostage
                    async with asyncio.timeout(_SHUTDOWN_FLUSH_S):
                        if self._shadow is not None:
                            await self._shadow.stop()
                        await self._log.stop()
                        for writer in self._writers:
                            await writer.stop()
                except TimeoutError:
                    log.warning(
                        "request log: %d records not written at shutdown", self._log.pending
                    )
                await self._feed.stop()
                await self._providers.aclose()
                if self._on_shutdown is not None:
                    self._on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _refresh_gauges(self) -> None:
        """Keep this worker's copied gauges current in the shared metric files.

        A scrape runs the copy hooks only in the worker that answers it; without
        this, the other workers' queue sizes and snapshot ages would be as old as
        the last scrape that happened to reach them.
        """
        while True:
            await asyncio.sleep(_GAUGE_REFRESH_S)
            try:
                self._metrics.refresh()
            except Exception:  # a gauge must never take the worker down
                log.exception("refreshing gauges failed")


async def _reply(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
