"""The routing snapshot: an immutable alias -> target map, swapped whole on change.

Resolution on the hot path is one dict lookup in the current snapshot and never
touches the database; for an alias in a rollout it adds one keyed hash of the
request's sticky key (see :func:`takes_canary`). A follower watches the store's
change marker and swaps in a freshly built snapshot when it moves; if the store
is unreachable it keeps the last good snapshot and reports itself degraded
(fail-static).

Two followers share what is here: :class:`SnapshotFollower` (a thread, for the
SDK) and :class:`turnout.services.snapshot_feed.SnapshotFeed` (asyncio, for the
gateway). Both build snapshots with :func:`load_snapshot` and step with
:func:`reload_if_changed`; the feed persists the last good snapshot to a file
(:mod:`turnout.services.snapshot_file`) so a worker that starts while the store
is down can still serve.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType

from turnout.domain.aliases import AliasTarget
from turnout.domain.bucketing import BUCKETS, bucket
from turnout.domain.providers import ProviderConfig
from turnout.domain.versions import ParamValue
from turnout.errors import NotFound, TurnoutError
from turnout.ports import Clock, RegistryStore

__all__ = [
    "CANARY_ARM",
    "STABLE_ARM",
    "Resolution",
    "RoutingSnapshot",
    "SnapshotFollower",
    "SnapshotVersion",
    "load_snapshot",
    "reload_if_changed",
    "takes_canary",
]

log = logging.getLogger(__name__)

STABLE_ARM = "stable"
"""The arm that serves an alias's own version (all of its traffic outside a rollout)."""
CANARY_ARM = "canary"
"""The arm that serves a rollout's candidate version."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a request for an alias is served by, precomputed per snapshot.

    ``version`` and ``arm`` are what *this* request gets. During a rollout both
    arms also carry the split itself (``canary`` version, ``weight`` in basis
    points, ``salt``, ``rollout_id``), so a caller can tag what it logs with the
    rollout whichever arm it landed on. Outside a rollout ``canary`` is None.
    """

    alias: str
    version: str
    arm: str
    revision: int
    fallbacks: tuple[str, ...] = ()
    canary: str | None = None
    weight: int = 0
    salt: str = ""
    rollout_id: int | None = None


def takes_canary(salt: str, weight: int, key: str | None) -> bool:
    """Whether one request goes to the canary arm of a split at ``weight`` basis points.

    With a sticky ``key`` the answer is ``bucket(salt, key) < weight``: the same
    key always lands on the same arm, and stays in the canary as the weight
    grows. Without a key there is nothing to stick to, so every call draws a
    fresh bucket with :func:`random.randrange`: the canary still gets its share
    of the traffic, but one caller may see both arms. Weights 0 and 10000 need
    no hash at all.
    """
    if weight <= 0:
        return False
    if weight >= BUCKETS:
        return True
    drawn = random.randrange(BUCKETS) if key is None else bucket(salt, key)
    return drawn < weight


def _arms(name: str, target: AliasTarget, revision: int) -> tuple[Resolution, Resolution | None]:
    """The stable arm of ``target`` and, during a rollout, its canary arm."""
    fallbacks = tuple(str(v) for v in target.fallbacks)
    split = target.canary
    stable_version = str(target.version)
    if split is None:
        return Resolution(name, stable_version, STABLE_ARM, revision, fallbacks), None
    shared = (fallbacks, str(split.version), split.weight, split.salt, split.rollout_id)
    return (
        Resolution(name, stable_version, STABLE_ARM, revision, *shared),
        Resolution(name, str(split.version), CANARY_ARM, revision, *shared),
    )


@dataclass(frozen=True, slots=True)
class SnapshotVersion:
    """A registered version as the gateway calls it: its default request params.

    ``retires`` is its retirement date (its own, else a stored catalog update's),
    for the ``turnout_version_days_to_retirement`` gauge and ``/readyz``.
    """

    id: str
    params: Mapping[str, ParamValue]
    retires: date | None = None


_NO_VERSIONS: Mapping[str, SnapshotVersion] = MappingProxyType({})
_NO_PROVIDERS: Mapping[str, ProviderConfig] = MappingProxyType({})


@dataclass(frozen=True)
class RoutingSnapshot:
    """Immutable routing state as of store change ``marker``.

    Beside the alias targets it carries the registered versions' params and the
    declared providers, so the gateway can serve from it alone when the store is
    down (fail-static) and never reads the database per request.
    """

    marker: int
    loaded_at: datetime
    targets: Mapping[str, AliasTarget]
    _resolutions: Mapping[str, Resolution] = field(repr=False, default_factory=dict)
    versions: Mapping[str, SnapshotVersion] = field(
        default_factory=lambda: _NO_VERSIONS, repr=False
    )
    providers: Mapping[str, ProviderConfig] = field(
        default_factory=lambda: _NO_PROVIDERS, repr=False
    )
    _canaries: Mapping[str, Resolution] = field(repr=False, default_factory=dict)

    @classmethod
    def build(
        cls,
        marker: int,
        loaded_at: datetime,
        aliases: Mapping[str, tuple[AliasTarget, int]],
        versions: Mapping[str, SnapshotVersion] | None = None,
        providers: Mapping[str, ProviderConfig] | None = None,
    ) -> RoutingSnapshot:
        stable: dict[str, Resolution] = {}
        canaries: dict[str, Resolution] = {}
        for name, (target, revision) in aliases.items():
            stable[name], canary = _arms(name, target, revision)
            if canary is not None:
                canaries[name] = canary
        targets = {name: target for name, (target, _) in aliases.items()}
        return cls(
            marker,
            loaded_at,
            MappingProxyType(targets),
            MappingProxyType(stable),
            MappingProxyType(dict(versions or {})),
            MappingProxyType(dict(providers or {})),
            MappingProxyType(canaries),
        )

    def resolve(self, alias: str, key: str | None = None) -> Resolution:
        """The version serving this request for ``alias``, and on which arm.

        Outside a rollout this is one dict lookup returning a precomputed value.
        During one, ``key`` (the sticky key: a user or session id) picks the arm
        as :func:`takes_canary` says; with no key each call draws at random.
        """
        try:
            found = self._resolutions[alias]
        except KeyError:
            raise NotFound(f"alias '{alias}' does not exist") from None
        if found.canary is None or not takes_canary(found.salt, found.weight, key):
            return found
        return self._canaries[alias]

    def arms(self, alias: str) -> tuple[Resolution, Resolution | None]:
        """Both arms of ``alias`` (the canary one only during a rollout); no draw.

        For whoever precomputes per arm (the gateway's router) or needs a
        deterministic answer (the snapshot file, the admin API).
        """
        try:
            return self._resolutions[alias], self._canaries.get(alias)
        except KeyError:
            raise NotFound(f"alias '{alias}' does not exist") from None

    def aliases(self) -> list[str]:
        return sorted(self._resolutions)


def load_snapshot(store: RegistryStore, clock: Clock) -> RoutingSnapshot:
    """Read every alias in one transaction, tagged with the change marker it reflects."""
    with store.unit_of_work() as uow:
        head = uow.audit.head()
        aliases = {alias.name: (alias.target, alias.revision) for alias in uow.aliases.all()}
        updated = {(e.provider, e.model_id): e.retires for e in uow.catalog.overrides()}
        versions = {
            str(v.id): SnapshotVersion(
                str(v.id),
                dict(v.params),
                v.retirement_date or updated.get((v.id.provider, v.id.model)),
            )
            for v in uow.versions.all()
        }
        providers = {p.name: p for p in uow.providers.all()}
    return RoutingSnapshot.build(head[0] if head else 0, clock(), aliases, versions, providers)


def reload_if_changed(
    store: RegistryStore, clock: Clock, current: RoutingSnapshot | None
) -> RoutingSnapshot | None:
    """One follow step: probe the change marker, and load a snapshot only if it moved.

    Returns the fresh snapshot, or None when ``current`` is still up to date. With
    ``current=None`` it always loads. Blocking (synchronous store calls): the
    asyncio feed runs it in a worker thread.
    """
    if current is not None and store.change_marker() == current.marker:
        return None
    return load_snapshot(store, clock)


class SnapshotFollower:
    """Keeps ``snapshot`` fresh by polling the store's change marker in a thread.

    The poll is one indexed single-row read, so a 200 ms interval is cheap. The
    gateway uses the asyncio :class:`~turnout.services.snapshot_feed.SnapshotFeed`
    instead, woken by PostgreSQL LISTEN/NOTIFY for sub-100 ms propagation.
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
                fresh = reload_if_changed(self._store, self._clock, self.snapshot)
            except TurnoutError as exc:
                if self.degraded is None:
                    log.warning("registry unreachable, serving the last good snapshot: %s", exc)
                self.degraded = exc.message
                return False
            self.degraded = None
            if fresh is None:
                return False
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
