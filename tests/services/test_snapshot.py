"""The routing snapshot: precomputed resolution, swap on change, fail-static when down."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from tests.support.flaky_store import FlakyStore

from turnout.client import LocalClient
from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.aliases import AliasTarget
from turnout.domain.ids import VersionId
from turnout.errors import NotFound, StoreUnavailable
from turnout.ports import RegistryStore
from turnout.services.registry import Registry
from turnout.services.snapshot import (
    Resolution,
    RoutingSnapshot,
    SnapshotFollower,
    load_snapshot,
)
from turnout.store import SqlStore

V1, V2, V3 = "sim/chat-001", "sim/chat-002", "sim/chat-003"
T0 = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
needs_versions = pytest.mark.usefixtures("sim_versions")  # V1..V3 registered

OpenRegistry = Callable[[], Registry]


def _flaky(store: SqlStore) -> FlakyStore:
    flaky = FlakyStore(store)
    _conforms: RegistryStore = flaky  # the fake honours the port
    return flaky


def _served(follower: SnapshotFollower, alias: str = "prod-chat") -> str:
    return follower.snapshot.resolve(alias).version


# --- the snapshot itself -----------------------------------------------------------------


def test_resolve_returns_the_precomputed_resolution() -> None:
    target = AliasTarget(VersionId.parse(V1), (VersionId.parse(V2), VersionId.parse(V3)))
    snapshot = RoutingSnapshot.build(7, T0, {"prod-chat": (target, 4)})
    resolution = snapshot.resolve("prod-chat")
    assert resolution == Resolution("prod-chat", V1, "stable", 4, (V2, V3))
    assert snapshot.resolve("prod-chat", key="user-42") is resolution  # no work per request
    assert (snapshot.marker, snapshot.loaded_at, snapshot.aliases()) == (7, T0, ["prod-chat"])
    assert snapshot.targets["prod-chat"] == target


def test_resolving_an_unknown_alias_is_not_found() -> None:
    snapshot = RoutingSnapshot.build(0, T0, {})
    with pytest.raises(NotFound, match="'nope'"):
        snapshot.resolve("nope")


def test_the_snapshot_cannot_be_mutated() -> None:
    snapshot = RoutingSnapshot.build(0, T0, {"a": (AliasTarget(VersionId.parse(V1)), 1)})
    with pytest.raises(TypeError):
        snapshot.targets["b"] = AliasTarget(VersionId.parse(V2))  # type: ignore[index]


@needs_versions
def test_load_snapshot_reads_every_alias_at_the_current_marker(
    registry: Registry, store: SqlStore, clock: Callable[[], datetime]
) -> None:
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1, fallbacks=[V3])
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V2)
    registry.aliases.set(LOCAL_ADMIN, "batch", V3)
    snapshot = load_snapshot(store, clock)
    assert snapshot.marker == store.change_marker()
    assert snapshot.aliases() == ["batch", "prod-chat"]
    assert snapshot.resolve("prod-chat") == Resolution("prod-chat", V2, "stable", 2, (V3,))
    assert snapshot.resolve("batch") == Resolution("batch", V3, "stable", 1, ())


# --- following the store -----------------------------------------------------------------


@needs_versions
def test_refresh_swaps_after_a_write_and_not_without(
    registry: Registry, store: SqlStore, clock: Callable[[], datetime]
) -> None:
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1)
    swapped: list[RoutingSnapshot] = []
    follower = SnapshotFollower(store, clock, on_swap=swapped.append)
    first = follower.snapshot
    assert _served(follower) == V1

    assert follower.refresh() is False
    assert follower.snapshot is first

    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V2)
    assert follower.refresh() is True
    assert _served(follower) == V2
    assert follower.snapshot.marker == store.change_marker()
    assert swapped == [follower.snapshot]

    assert follower.refresh() is False
    assert len(swapped) == 1


@needs_versions
def test_writes_that_do_not_touch_aliases_swap_an_equal_snapshot(
    registry: Registry, store: SqlStore, clock: Callable[[], datetime]
) -> None:
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1)
    follower = SnapshotFollower(store, clock)
    registry.versions.add_known_issue(LOCAL_ADMIN, V1, "slow on long prompts")
    assert follower.refresh() is True  # the marker moved; routing is unchanged
    assert follower.snapshot.resolve("prod-chat") == Resolution("prod-chat", V1, "stable", 1)


@needs_versions
def test_an_unreachable_store_keeps_the_last_snapshot_and_recovers(
    registry: Registry, store: SqlStore, clock: Callable[[], datetime]
) -> None:
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1)
    flaky = _flaky(store)
    follower = SnapshotFollower(flaky, clock)
    last_good = follower.snapshot
    assert follower.degraded is None

    flaky.down = True
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V2)  # written while this worker is cut off
    for _ in range(3):
        assert follower.refresh() is False
        assert follower.snapshot is last_good
        assert _served(follower) == V1  # fail-static: still serving
        assert follower.degraded is not None
        assert "unreachable" in follower.degraded

    flaky.down = False
    assert follower.refresh() is True
    assert follower.degraded is None
    assert _served(follower) == V2


@needs_versions
def test_recovery_without_a_change_clears_degraded(
    registry: Registry, store: SqlStore, clock: Callable[[], datetime]
) -> None:
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1)
    flaky = _flaky(store)
    follower = SnapshotFollower(flaky, clock)
    flaky.down = True
    follower.refresh()
    assert follower.degraded is not None
    flaky.down = False
    assert follower.refresh() is False
    assert follower.degraded is None


def test_a_follower_is_not_ready_without_a_first_snapshot(
    store: SqlStore, clock: Callable[[], datetime]
) -> None:
    flaky = _flaky(store)
    flaky.down = True
    with pytest.raises(StoreUnavailable):
        SnapshotFollower(flaky, clock)


@needs_versions
def test_background_follower_picks_up_a_flip(
    registry: Registry, store: SqlStore, clock: Callable[[], datetime]
) -> None:
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1)
    follower = SnapshotFollower(store, clock, interval=0.01)
    follower.start()
    try:
        registry.aliases.set(LOCAL_ADMIN, "prod-chat", V2)
        assert _eventually(lambda: _served(follower) == V2)
    finally:
        follower.stop()


# --- the SDK client ----------------------------------------------------------------------


@needs_versions
def test_local_client_follows_a_flip_made_by_another_client(
    client: LocalClient, open_registry: OpenRegistry
) -> None:
    client.set_alias("prod-chat", V1)
    assert client.resolve("prod-chat").version == V1
    with _other_client(open_registry) as other:
        other.set_alias("prod-chat", V2, fallbacks=[V3])
        assert _eventually(lambda: client.resolve("prod-chat").version == V2)
        assert client.resolve("prod-chat") == Resolution("prod-chat", V2, "stable", 2, (V3,))
        other.rollback_alias("prod-chat")
        assert _eventually(lambda: client.resolve("prod-chat").version == V1)
    with pytest.raises(NotFound):
        client.resolve("nope")


@contextlib.contextmanager
def _other_client(open_registry: OpenRegistry) -> Iterator[LocalClient]:
    """A second SDK client on the same database: its own store, pool and follower."""
    other = LocalClient(open_registry(), poll_interval=0.02)
    try:
        yield other
    finally:
        other.close()


def _eventually(condition: Callable[[], bool], deadline_s: float = 10.0) -> bool:
    """Poll ``condition`` until it holds or the deadline passes (no timing asserted)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()
