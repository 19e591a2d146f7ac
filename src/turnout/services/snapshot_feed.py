"""The gateway's routing snapshot, kept fresh in the background of each uvicorn worker.

Requests read ``feed.current`` — a plain attribute holding an immutable
:class:`~turnout.services.snapshot.RoutingSnapshot` — and resolve with one dict
lookup: no lock, no await. One background task replaces that attribute, whole,
when the registry changes:

* PostgreSQL: it sleeps on LISTEN (a :class:`~turnout.ports.ChangeListener`) and
  reloads when a write's NOTIFY arrives, milliseconds after the commit. Every
  ``check_interval`` it also compares the change marker, a safety net for
  notifications lost while the listener was reconnecting.
* SQLite: it polls the change marker (one indexed single-row read) every
  ``poll_interval`` and reloads when it moves.

Fail-static, as Envoy does: when the store fails, the last good snapshot keeps
serving, ``degraded`` says why, and the task backs off and retries until the
store answers again (re-subscribing on PostgreSQL). Every snapshot loaded from
the store is also written to ``snapshot_path``, so a worker that starts while
the store is down serves that file (``source == "file"``, degraded) instead of
nothing; with neither store nor file it stays not ready and keeps retrying.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Literal, TypedDict

from turnout.errors import StoreUnavailable, TurnoutError
from turnout.ports import ChangeListener, Clock, RegistryStore
from turnout.services.snapshot import RoutingSnapshot, reload_if_changed
from turnout.services.snapshot_file import read_snapshot_file, snapshot_json, write_snapshot_file

__all__ = ["FeedStatus", "ListenerFactory", "SnapshotFeed", "SnapshotSource", "SwapCallback"]

log = logging.getLogger(__name__)

SnapshotSource = Literal["store", "file"]
ListenerFactory = Callable[[], ChangeListener]
SwapCallback = Callable[[RoutingSnapshot], None]


class FeedStatus(TypedDict):
    """What ``/readyz`` reports. The last three are None until a snapshot is loaded."""

    ready: bool
    degraded: str | None
    marker: int | None
    snapshot_age_s: float | None
    source: SnapshotSource | None


class SnapshotFeed:
    """The current routing snapshot of one worker, and the task that follows the store.

    ``current`` is an empty snapshot until ``ready``; the gateway answers 503 then
    rather than resolving. ``on_swap`` callbacks run on the event loop after each
    swap (including the first load and a load from the file); they must be quick,
    and an exception in one is logged, never fatal to the feed.
    """

    def __init__(
        self,
        store: RegistryStore,
        clock: Clock,
        *,
        listener_factory: ListenerFactory | None = None,
        poll_interval: float = 0.05,
        check_interval: float = 1.0,
        snapshot_path: Path | None = None,
        retry_initial: float = 0.1,
        retry_max: float = 2.0,
        on_swap: Iterable[SwapCallback] = (),
        refresh_timeout: float = 5.0,
    ) -> None:
        self._store = store
        # One thread of its own: a store that hangs (rather than refuses) blocks
        # only this thread, and a refresh that times out is reported, not stacked.
        self._executor: ThreadPoolExecutor | None = None
        self._refresh_timeout = refresh_timeout
        self._clock = clock
        self._listener_factory = listener_factory
        self._poll_interval = poll_interval
        self._check_interval = check_interval
        self._path = snapshot_path
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._backoff = retry_initial
        self._written_marker: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.current = RoutingSnapshot.build(0, clock(), {})
        self.ready = False
        self.source: SnapshotSource | None = None
        self.degraded: str | None = None
        self.last_refresh_ok_at: datetime | None = None
        self.listening = False
        self.on_swap: list[SwapCallback] = list(on_swap)

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Load the first snapshot (or fall back to the file), then follow in the background.

        Never raises for an unreachable store: check ``ready`` / :meth:`status`.
        """
        if self._task is not None:
            return
        try:
            await self.refresh()
            self._recovered()
        except Exception as exc:
            self._failed(exc)
            await self._load_file()
        self._task = asyncio.create_task(self._run(), name="turnout-snapshot-feed")

    async def stop(self) -> None:
        """Cancel the background task and close the listener; the snapshot stays readable."""
        task, self._task = self._task, None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        if task is None:
            return
        while not task.done():  # cancel again if a cancel was ever lost
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
        if not task.cancelled() and task.exception() is not None:
            log.warning("snapshot feed ended with %r", task.exception())

    async def refresh(self) -> bool:
        """Check the store now; swap and return True if it changed (read your own writes).

        Raises the store's error (StoreUnavailable) without touching ``degraded``:
        the background task owns that state.
        """
        async with self._lock:
            current = self.current if self.source == "store" else None
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="snapshot-feed")
            loop = asyncio.get_running_loop()
            call = loop.run_in_executor(
                self._executor, reload_if_changed, self._store, self._clock, current
            )
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
                # cancel that lands as the call completes (bpo-42130), and a feed that
                # ignores its cancel hangs the server's shutdown (seen in the tests)
                async with asyncio.timeout(self._refresh_timeout):
                    fresh = await call
            except TimeoutError:
                raise StoreUnavailable(
                    f"registry {self._store.url} did not answer within {self._refresh_timeout:g}s"
                ) from None
            self.last_refresh_ok_at = self._clock()
            if fresh is None:
                return False
            self._swap(fresh, "store")
            await self._save(fresh)
            return True

    def status(self) -> FeedStatus:
        """Readiness for ``/readyz``. ``snapshot_age_s``: seconds since the served snapshot
        was last confirmed against the store (for a file, since it was loaded from one)."""
        if not self.ready:
            return FeedStatus(
                ready=False, degraded=self.degraded, marker=None, snapshot_age_s=None, source=None
            )
        confirmed = self.last_refresh_ok_at
        if self.source != "store" or confirmed is None:
            confirmed = self.current.loaded_at
        age = max(0.0, (self._clock() - confirmed).total_seconds())
        return FeedStatus(
            ready=True,
            degraded=self.degraded,
            marker=self.current.marker,
            snapshot_age_s=age,
            source=self.source,
        )

    # -- the background task ------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                if self._listener_factory is None:
                    await self._poll()
                else:
                    await self._listen(self._listener_factory)
            except Exception as exc:
                self._failed(exc)
                if not self.ready:
                    await self._load_file()
                await asyncio.sleep(self._backoff)
                self._backoff = min(self._backoff * 2, self._retry_max)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)  # start() or the last failure just checked
            await self.refresh()
            self._recovered()

    async def _listen(self, factory: ListenerFactory) -> None:
        # Refresh before subscribing too: if only LISTEN fails, the snapshot still
        # follows the store at the retry cadence.
        await self.refresh()
        listener = factory()
        try:
            await listener.connect()
            self.listening = True
            while True:
                # The first pass catches up on writes made before LISTEN took effect.
                await self.refresh()
                self._recovered()
                await listener.wait(self._check_interval)
        finally:
            self.listening = False
            await listener.aclose()

    # -- state changes ------------------------------------------------------------------

    def _swap(self, fresh: RoutingSnapshot, source: SnapshotSource) -> None:
        self.current = fresh  # one reference assignment: requests see old or new, never half
        self.source = source
        self.ready = True
        for callback in list(self.on_swap):
            try:
                callback(fresh)
            except Exception:
                log.exception("snapshot on_swap callback %r failed", callback)

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, TurnoutError):
            reason = exc.message
        else:
            reason = f"unexpected error: {exc!r}"
            if reason != self.degraded:
                log.error("snapshot feed: unexpected error", exc_info=exc)
        if self.degraded is None:
            log.warning("registry unreachable, serving the last good snapshot: %s", reason)
        self.degraded = reason

    def _recovered(self) -> None:
        if self.degraded is not None:
            log.warning("registry reachable again at marker %d", self.current.marker)
        self.degraded = None
        self._backoff = self._retry_initial

    async def _save(self, snapshot: RoutingSnapshot) -> None:
        if self._path is None or snapshot.marker == self._written_marker:
            return
        try:
            await asyncio.to_thread(_persist, self._path, snapshot)
        except OSError as exc:
            log.warning("cannot write the snapshot file %s: %s", self._path, exc)
            return
        self._written_marker = snapshot.marker

    async def _load_file(self) -> None:
        if self._path is None:
            return
        try:
            snapshot = await asyncio.to_thread(read_snapshot_file, self._path)
        except (OSError, TurnoutError) as exc:
            log.warning("cannot use the snapshot file %s: %s", self._path, exc)
            return
        if snapshot is None:
            return
        self._written_marker = snapshot.marker
        self._swap(snapshot, "file")
        log.warning(
            "registry unreachable at start-up: serving %s (marker %d, loaded %s)",
            self._path,
            snapshot.marker,
            snapshot.loaded_at.isoformat(),
        )


def _persist(path: Path, snapshot: RoutingSnapshot) -> bool:
    """Write ``snapshot`` unless the file already holds the same routing at the same marker.

    Checking the file, not only this process's memory, means a restart does not
    rewrite it, and of several workers sharing the path usually one writes.
    """
    try:
        on_disk = read_snapshot_file(path)
    except (OSError, TurnoutError):
        on_disk = None  # unreadable or corrupt: replace it
    if on_disk is not None and _routing(on_disk) == _routing(snapshot):
        return False
    write_snapshot_file(path, snapshot)
    return True


def _routing(snapshot: RoutingSnapshot) -> dict[str, object]:
    data = snapshot_json(snapshot)
    del data["loaded_at"]
    return data
