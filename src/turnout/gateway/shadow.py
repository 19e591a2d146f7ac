"""Shadow traffic: copies of live requests sent to candidate versions, off the hot path.

The gateway offers a request to :meth:`ShadowDispatcher.offer` *after* the
primary answer has been sent to the client. ``offer`` is synchronous and O(1):
it draws the sample, checks the candidate's rate limit and daily budget, and
puts a job on a bounded queue — or drops the copy and counts why. A fixed set
of worker tasks (the concurrency bound) calls the candidates, collects each
answer whole (a streamed primary is shadowed with a streamed call, for a
comparable time to first token) and hands the pair to a batch writer.

So the primary is never delayed and never failed by a shadow: nothing here runs
before the client has its answer, nothing here raises into the request, and the
memory it can take is the queue bound times one request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from turnout.domain.completions import Completion, Message
from turnout.domain.requests import estimate_cost
from turnout.domain.shadow import ShadowPair
from turnout.errors import TurnoutError
from turnout.gateway.answer_text import answer_text, delta_text
from turnout.gateway.metrics import GatewayMetrics
from turnout.gateway.routing import ShadowRoute
from turnout.providers.base import ChatRequest, JsonObject, usage_of
from turnout.services.request_log import BatchWriter

__all__ = ["DROP_REASONS", "ShadowDispatcher", "ShadowRuntime"]

log = logging.getLogger(__name__)

DROP_REASONS = ("queue_full", "rate_limited", "over_budget", "stopping")
"""Why a sampled copy was not sent (the ``reason`` label of the drop counter)."""


@dataclass(slots=True)
class _Job:
    alias: str
    target: ShadowRoute
    body: JsonObject
    stream: bool
    primary: Completion
    request_id: str
    at: datetime


class _Bucket:
    """A token bucket: ``rate`` copies per second, bursts up to one second's worth."""

    __slots__ = ("capacity", "last", "rate", "tokens")

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.last = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class ShadowDispatcher:
    """Bounded queue + fixed workers + per-candidate rate limit and daily budget."""

    def __init__(
        self,
        sink: Callable[[ShadowPair], None],
        metrics: GatewayMetrics | None = None,
        *,
        queue_size: int = 1024,
        concurrency: int = 16,
        timeout_s: float = 120.0,
        draw: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if queue_size < 1 or concurrency < 1:
            raise ValueError("queue_size and concurrency must be positive")
        self._sink = sink
        self._metrics = metrics
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(queue_size)
        self._concurrency = concurrency
        self._timeout = timeout_s
        self._draw = draw
        self._monotonic = monotonic
        self._buckets: dict[tuple[str, float], _Bucket] = {}
        self._spent: dict[str, tuple[date, float]] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._stopping = False
        self.in_flight = 0
        self.max_in_flight = 0
        self.sent = 0
        self.dropped: dict[str, int] = dict.fromkeys(DROP_REASONS, 0)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        if not self._workers:
            self._stopping = False
            loop = asyncio.get_running_loop()
            self._workers = [
                loop.create_task(self._work(), name=f"shadow-{i}") for i in range(self._concurrency)
            ]

    async def stop(self) -> None:
        """Stop taking copies and cancel the workers; queued copies are dropped (counted)."""
        self._stopping = True
        workers, self._workers = self._workers, []
        for task in workers:
            task.cancel()
        if workers:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5.0):
                    await asyncio.gather(*workers, return_exceptions=True)
        while not self._queue.empty():
            job = self._queue.get_nowait()
            self._drop(job.alias, job.target.route.version, "stopping")

    def offer(
        self,
        alias: str,
        targets: tuple[ShadowRoute, ...],
        body: JsonObject,
        stream: bool,
        primary: Completion,
        request_id: str,
    ) -> None:
        """Queue a copy of one answered request for each sampled candidate. Never raises."""
        now = self._monotonic()
        at: datetime | None = None
        for target in targets:
            policy = target.policy
            if policy.sample < 1.0 and self._draw() >= policy.sample:
                continue
            reason = self._refusal(target, now)
            if reason is None:
                at = at or datetime.now(UTC)
                job = _Job(alias, target, body, stream, primary, request_id, at)
                try:
                    self._queue.put_nowait(job)
                    continue
                except asyncio.QueueFull:
                    reason = "queue_full"
            self._drop(alias, target.route.version, reason)

    def _refusal(self, target: ShadowRoute, now: float) -> str | None:
        if self._stopping:
            return "stopping"
        policy, version = target.policy, target.route.version
        if policy.max_cost_per_day is not None:
            day, spent = self._spent.get(version, (None, 0.0))
            if day == datetime.now(UTC).date() and spent >= policy.max_cost_per_day:
                return "over_budget"
        if policy.max_rps is not None:
            key = (version, policy.max_rps)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(policy.max_rps, now)
            if not bucket.take(now):
                return "rate_limited"
        return None

    def _drop(self, alias: str, candidate: str, reason: str) -> None:
        self.dropped[reason] += 1
        if self._metrics is not None:
            self._metrics.shadow_dropped.labels(alias, candidate, reason).inc()

    def _spend(self, version: str, cost: float | None) -> None:
        if cost is None:
            return
        today = datetime.now(UTC).date()
        day, spent = self._spent.get(version, (today, 0.0))
        self._spent[version] = (today, (spent if day == today else 0.0) + cost)

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                candidate = await self._call(job)
                self._spend(candidate.version, candidate.cost_usd)
                self.sent += 1
                if self._metrics is not None:
                    outcome = "ok" if candidate.ok else "error"
                    self._metrics.shadow_requests.labels(
                        job.alias, candidate.version, outcome
                    ).inc()
                self._sink(
                    ShadowPair(
                        request_id=job.request_id,
                        at=job.at,
                        alias=job.alias,
                        messages=_messages(job.body),
                        primary=job.primary,
                        candidate=candidate,
                        stream=job.stream,
                        params={k: v for k, v in job.body.items() if k not in _NOT_PARAMS},
                    )
                )
            except Exception:  # a bug must cost one pair, never the worker
                log.exception("shadow copy to %s failed", job.target.route.version)
            finally:
                self.in_flight -= 1

    async def _call(self, job: _Job) -> Completion:
        target = job.target.route
        started = time.perf_counter()
        ttft: float | None = None
        usage: tuple[int, int] | None = None
        text = ""
        try:
            request = ChatRequest.from_openai(
                job.body, model=target.model, defaults=target.params, timeout_s=self._timeout
            )
            async with asyncio.timeout(self._timeout):
                if job.stream:
                    parts: list[str] = []
                    async for chunk in target.provider.stream(request):
                        if ttft is None:
                            ttft = time.perf_counter()
                        parts.append(delta_text(chunk))
                        usage = usage_of(chunk) or usage
                    text = "".join(parts)
                else:
                    result = await target.provider.complete(request)
                    text = answer_text(result)
                    usage = usage_of(result)
            error = None
        except TurnoutError as exc:
            error = f"{exc.code}: {exc.message}"
        except TimeoutError:
            error = f"timeout: no answer within {self._timeout:g}s"
        latency = (time.perf_counter() - started) * 1000
        tokens_in, tokens_out = usage if usage else (None, None)
        return Completion(
            version=target.version,
            text=text,
            latency_ms=latency,
            ttft_ms=(ttft - started) * 1000 if ttft is not None else None,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=estimate_cost(tokens_in, tokens_out, target.price_in, target.price_out),
            error=error,
        )


_NOT_PARAMS = frozenset({"messages", "model", "stream", "stream_options", "user"})
"""Body fields that are not generation parameters (kept out of a pair's ``params``)."""


def _messages(body: JsonObject) -> list[Message]:
    messages = body.get("messages")
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


class ShadowRuntime:
    """The dispatcher and the pair writer, started and stopped together with the server."""

    def __init__(self, dispatcher: ShadowDispatcher, pairs: BatchWriter[ShadowPair]) -> None:
        self.dispatcher = dispatcher
        self.pairs = pairs

    def start(self) -> None:
        self.dispatcher.start()
        self.pairs.start()

    async def stop(self) -> None:
        """Stop copying (queued copies are dropped), then write the pairs already made."""
        await self.dispatcher.stop()
        await self.pairs.stop()

    def status(self) -> dict[str, object]:
        return {
            "queued": self.dispatcher.pending,
            "in_flight": self.dispatcher.in_flight,
            "sent": self.dispatcher.sent,
            "dropped": dict(self.dispatcher.dropped),
            "pairs_pending": self.pairs.pending,
            "pairs_dropped": self.pairs.dropped,
            "last_error": self.pairs.last_error,
        }

    def copy_gauges(self, metrics: GatewayMetrics) -> None:
        metrics.shadow_pending.set(self.dispatcher.pending)
        metrics.shadow_pairs_dropped.set(self.pairs.dropped)
