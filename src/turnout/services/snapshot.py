"""The routing snapshot: an immutable alias -> target map, swapped whole on change.

Resolution on the hot path is one dict lookup in the current snapshot and never
touches the database. A follower watches the store's change marker and swaps in
a freshly built snapshot when it moves; if the store is unreachable it keeps the
last good snapshot and reports itself degraded (fail-static).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from turnout.domain.aliases import AliasTarget
from turnout.errors import NotFound, TurnoutError
from turnout.ports import Clock, RegistryStore

__all__ = ["Resolution", "RoutingSnapshot", "SnapshotFollower", "load_snapshot"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a request for an alias is served by, precomputed per snapshot."""

    alias: str
    version: str
    arm: str
    revision: int
    fallbacks: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoutingSnapshot:
    """Immutable routing state as of store change ``marker``."""

    marker: int
    loaded_at: datetime
    targets: Mapping[str, AliasTarget]
    _resolutions: Mapping[str, Resolution] = field(repr=False, default_factory=dict)

    @classmethod
    def build(
        cls, marker: int, loaded_at: datetime, aliases: Mapping[str, tuple[AliasTarget, int]]
    ) -> RoutingSnapshot:
        resolutions = {
            name: Resolution(
                name,
                str(target.version),
                "stable",
                revision,
                tuple(str(v) for v in target.fallbacks),
            )
            for name, (target, revision) in aliases.items()
        }
        targets = {name: target for name, (target, _) in aliases.items()}
        return cls(marker, loaded_at, MappingProxyType(targets), MappingProxyType(resolutions))

    def resolve(self, alias: str, key: str | None = None) -> Resolution:
        """The version serving ``alias``; ``key`` is the sticky key rollouts will use."""
        try:
            return self._resolutions[alias]
        except KeyError:
            raise NotFound(f"alias '{alias}' does not exist") from None

    def aliases(self) -> list[str]:
        return sorted(self._resolutions)


def load_snapshot(store: RegistryStore, clock: Clock) -> RoutingSnapshot:
    """Read every alias in one transaction, tagged with the change marker it reflects."""
    with store.unit_of_work() as uow:
        head = uow.audit.head()
        aliases = {alias.name: (alias.target, alias.revision) for alias in uow.aliases.all()}
    return RoutingSnapshot.build(head[0] if head else 0, clock(), aliases)


class SnapshotFollower:
    """Keeps ``snapshot`` fresh by polling the store's change marker in a thread.

    The poll is one indexed single-row read, so a 200 ms interval is cheap; the
    gateway adds PostgreSQL LISTEN/NOTIFY on top for sub-100 ms propagation.
    """

    def __init__(
        self,
        store: RegistryStore,
        clock: Clock,
        interval: float = 0.2,
        on_swap: Callable[[RoutingSnapshot], None] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._interval = interval
        self._on_swap = on_swap
        self._stop = threading.Event()
        self._refresh_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.snapshot = load_snapshot(store, clock)
        self.degraded: str | None = None

    def refresh(self) -> bool:
        """Reload if the store changed; return whether a new snapshot was swapped in.

        Serialised by a lock, so a refresh from a writer's thread (read your own
        writes) and the poller's never swap an older snapshot over a newer one.
        """
        with self._refresh_lock:
            try:
                marker = self._store.change_marker()
                if marker == self.snapshot.marker:
                    self.degraded = None
                    return False
                fresh = load_snapshot(self._store, self._clock)
            except TurnoutError as exc:
                if self.degraded is None:
                    log.warning("registry unreachable, serving the last good snapshot: %s", exc)
                self.degraded = exc.message
                return False
            self.degraded = None
            self.snapshot = fresh  # one reference assignment: readers see old or new, never half
        if self._on_swap is not None:
            self._on_swap(fresh)
        return True

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="turnout-snapshot", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.refresh()
