"""The HTTP client's in-memory routing snapshot, kept fresh by polling the admin API.

``resolve`` sits on the caller's request path, so it must never wait on the network
after the first call. This follower fetches ``/snapshot`` once, then a background
thread polls the cheap ``/snapshot/marker`` and refetches the snapshot only when the
marker moves. If the server becomes unreachable, the last good snapshot keeps
serving (fail-static) and :attr:`HttpSnapshotFollower.degraded` says why.

It is apart from :class:`~turnout.http_client.HttpClient` because its concerns —
a lock, a thread, fail-static state — are not the admin operations' concerns; it
only needs a way to make a GET request, which the client lends it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from turnout.domain.aliases import AliasTarget
from turnout.errors import TurnoutError
from turnout.services.snapshot import Resolution, RoutingSnapshot

__all__ = ["HttpSnapshotFollower"]

# The client's logger, as before the follower had its own module: logging
# configured for "turnout.http_client" keeps seeing the fail-static warning.
log = logging.getLogger("turnout.http_client")


class HttpSnapshotFollower:
    """The routing snapshot behind ``resolve``, fetched lazily and then followed.

    ``call(method, path)`` makes one admin API request and returns the decoded
    JSON, raising a :class:`TurnoutError` on failure (the client's ``_call``).
    """

    def __init__(
        self, call: Callable[[str, str], Any], poll_interval: float, join_timeout: float
    ) -> None:
        self._call = call
        self._poll_interval = poll_interval
        self._join_timeout = join_timeout
        self._snapshot: RoutingSnapshot | None = None
        self._snapshot_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.degraded: str | None = None
        """Why the snapshot may be stale (the last poll failed), or None when fresh."""

    def resolve(self, alias: str, key: str | None = None) -> Resolution:
        """In-memory resolution; the first call fetches the snapshot and starts following."""
        snapshot = self._snapshot
        if snapshot is None:
            snapshot = self._first_snapshot()
        return snapshot.resolve(alias, key)

    def _first_snapshot(self) -> RoutingSnapshot:
        with self._snapshot_lock:
            if self._snapshot is None:
                self._snapshot = self._fetch_snapshot()
                self._thread = threading.Thread(
                    target=self._follow, name="turnout-http-snapshot", daemon=True
                )
                self._thread.start()
            return self._snapshot

    def _fetch_snapshot(self) -> RoutingSnapshot:
        data = self._call("GET", "/snapshot")
        aliases = {
            name: (AliasTarget.from_dict(entry["target"]), int(entry["revision"]))
            for name, entry in data["aliases"].items()
        }
        return RoutingSnapshot.build(int(data["marker"]), datetime.now(UTC), aliases)

    def refresh(self) -> bool:
        """Refetch the snapshot if the registry changed; return whether it was swapped."""
        current = self._snapshot
        try:
            marker = int(self._call("GET", "/snapshot/marker")["marker"])
            if current is not None and marker == current.marker:
                self.degraded = None
                return False
            fresh = self._fetch_snapshot()
        except TurnoutError as exc:
            if self.degraded is None:
                log.warning("turnout server unreachable, keeping the last snapshot: %s", exc)
            self.degraded = exc.message
            return False
        self.degraded = None
        self._snapshot = fresh  # one reference assignment: readers see old or new
        return True

    def _follow(self) -> None:
        while not self._stop.wait(self._poll_interval):
            self.refresh()

    def close(self) -> None:
        """Stop following and wait (bounded) for the thread to end; idempotent."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=self._join_timeout)
