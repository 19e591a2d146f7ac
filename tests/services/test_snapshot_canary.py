"""Resolving an alias in a rollout: sticky by key, weighted, monotone, kept in the file.

The split itself is pure (hash of salt and key); what is tested here is that the
snapshot applies it: a key's arm never changes while the weight stands, the
canary gets its share, raising the weight only adds keys, no key means a fresh
draw, and the fail-static snapshot file keeps the split.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from math import sqrt
from pathlib import Path

import pytest
from tests.support.canary import set_canary

from turnout.client import LocalClient
from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.aliases import AliasTarget, CanarySplit
from turnout.domain.ids import VersionId
from turnout.services.registry import Registry
from turnout.services.snapshot import (
    CANARY_ARM,
    STABLE_ARM,
    Resolution,
    RoutingSnapshot,
    load_snapshot,
)
from turnout.services.snapshot_file import (
    read_snapshot_file,
    snapshot_from_json,
    snapshot_json,
    write_snapshot_file,
)

V1, V2, V3 = "sim/chat-001", "sim/chat-002", "sim/chat-003"
T0 = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
ALIAS = "prod-chat"
SALT = "r7-salt"
KEYS = 20_000


@pytest.fixture(autouse=True)
def seeded_random() -> Iterator[None]:
    """Keyless draws use the module-level ``random``: seed it, and put it back after."""
    state = random.getstate()
    random.seed(20260115)
    yield
    random.setstate(state)


@pytest.fixture(scope="module")
def keys() -> list[str]:
    """Distinct, reproducible sticky keys, shaped like user ids."""
    rng = random.Random(4)
    return [f"user-{rng.getrandbits(64):016x}" for _ in range(KEYS)]


def split_snapshot(weight: int, salt: str = SALT) -> RoutingSnapshot:
    """``prod-chat``: V1 stable, V2 canary at ``weight``; ``batch``: V3, no rollout."""
    target = AliasTarget(
        VersionId.parse(V1),
        (VersionId.parse(V3),),
        CanarySplit(VersionId.parse(V2), weight, salt, rollout_id=7),
    )
    plain = AliasTarget(VersionId.parse(V3))
    return RoutingSnapshot.build(5, T0, {ALIAS: (target, 3), "batch": (plain, 1)})


def canary_keys(snapshot: RoutingSnapshot, keys: list[str]) -> set[str]:
    return {k for k in keys if snapshot.resolve(ALIAS, k).arm == CANARY_ARM}


def wait_until(check: Callable[[], bool], what: str, deadline_s: float = 10.0) -> None:
    deadline = time.monotonic() + deadline_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def within_binomial(hits: int, trials: int, p: float, sds: float = 5.0) -> bool:
    """``hits`` is within ``sds`` standard deviations of Binomial(trials, p)'s mean."""
    return abs(hits - trials * p) <= sds * sqrt(trials * p * (1 - p))


# --- the resolution of each arm -------------------------------------------------------------


def test_each_arm_names_its_version_and_carries_the_split() -> None:
    snapshot = split_snapshot(5_000)
    stable, canary = snapshot.arms(ALIAS)
    shared = ((V3,), V2, 5_000, SALT, 7)
    assert stable == Resolution(ALIAS, V1, STABLE_ARM, 3, *shared)
    assert canary == Resolution(ALIAS, V2, CANARY_ARM, 3, *shared)
    assert snapshot.arms("batch") == (Resolution("batch", V3, STABLE_ARM, 1), None)


def test_an_alias_outside_a_rollout_is_stable_whatever_the_key() -> None:
    snapshot = split_snapshot(5_000)
    plain = snapshot.resolve("batch")
    assert (plain.arm, plain.canary, plain.weight, plain.rollout_id) == (STABLE_ARM, None, 0, None)
    assert all(snapshot.resolve("batch", key) is plain for key in ("a", "b", None))


# --- stickiness, share, monotone ramp ------------------------------------------------------


def test_a_key_always_lands_on_the_same_arm(keys: list[str]) -> None:
    snapshot = split_snapshot(5_000)
    first = {k: snapshot.resolve(ALIAS, k) for k in keys[:500]}
    assert {r.arm for r in first.values()} == {STABLE_ARM, CANARY_ARM}
    rebuilt = split_snapshot(5_000)  # another snapshot, another replica: the same answer
    for key, resolution in first.items():
        assert snapshot.resolve(ALIAS, key) is resolution
        assert rebuilt.resolve(ALIAS, key) == resolution
        assert resolution.version == (V2 if resolution.arm == CANARY_ARM else V1)


@pytest.mark.parametrize("weight", [100, 1_000, 5_000])
def test_the_canary_gets_its_weight_of_the_keys(keys: list[str], weight: int) -> None:
    hits = len(canary_keys(split_snapshot(weight), keys))
    assert within_binomial(hits, len(keys), weight / 10_000), (hits, weight)


def test_a_key_in_the_canary_stays_in_it_as_the_weight_grows(keys: list[str]) -> None:
    at_1 = canary_keys(split_snapshot(100), keys)
    at_10 = canary_keys(split_snapshot(1_000), keys)
    at_50 = canary_keys(split_snapshot(5_000), keys)
    assert at_1  # ~200 keys at 1 %
    assert at_1 <= at_10 <= at_50
    assert len(at_1) < len(at_10) < len(at_50)


def test_another_salt_picks_other_keys(keys: list[str]) -> None:
    ours = canary_keys(split_snapshot(1_000), keys)
    theirs = canary_keys(split_snapshot(1_000, salt="another-rollout"), keys)
    overlap = len(ours & theirs)
    assert within_binomial(
        overlap, len(keys), 0.1 * 0.1
    )  # independent, not the same early adopters


def test_weight_zero_serves_only_stable_and_full_weight_only_the_canary(keys: list[str]) -> None:
    off, full = split_snapshot(0), split_snapshot(10_000)
    for key in [*keys[:2_000], None]:
        assert off.resolve(ALIAS, key).arm == STABLE_ARM
        assert full.resolve(ALIAS, key).arm == CANARY_ARM


def test_without_a_key_every_call_draws_both_arms_in_proportion() -> None:
    snapshot = split_snapshot(2_000)
    arms = Counter(snapshot.resolve(ALIAS).arm for _ in range(KEYS))
    assert set(arms) == {STABLE_ARM, CANARY_ARM}
    assert within_binomial(arms[CANARY_ARM], KEYS, 0.2)


# --- the fail-static file ------------------------------------------------------------------


def test_the_snapshot_file_keeps_the_split(tmp_path: Path, keys: list[str]) -> None:
    snapshot = split_snapshot(1_000)
    path = tmp_path / "snapshot.json"
    write_snapshot_file(path, snapshot)
    assert json.loads(path.read_text())["aliases"][ALIAS]["target"]["canary"] == {
        "version": V2,
        "weight": 1_000,
        "salt": SALT,
        "rollout_id": 7,
    }
    restored = read_snapshot_file(path)
    assert restored is not None
    assert restored.targets == snapshot.targets
    assert restored.arms(ALIAS) == snapshot.arms(ALIAS)
    assert canary_keys(restored, keys) == canary_keys(snapshot, keys)
    assert snapshot_from_json(snapshot_json(snapshot)).arms("batch") == snapshot.arms("batch")


# --- through the store and the SDK ---------------------------------------------------------


@pytest.fixture
def split_registry(registry: Registry) -> Registry:
    """V1..V3 registered; ``prod-chat`` on V1 with V2 as canary at 30 %."""
    for vid in (V1, V2, V3):
        registry.versions.add(LOCAL_ADMIN, vid)
    registry.aliases.set(LOCAL_ADMIN, ALIAS, V1)
    set_canary(registry, ALIAS, V2, 3_000, salt=SALT, rollout_id=9)
    return registry


def test_a_split_written_to_the_store_is_in_the_loaded_snapshot(
    split_registry: Registry, keys: list[str]
) -> None:
    snapshot = load_snapshot(split_registry.ctx.store, split_registry.ctx.clock)
    stable, canary = snapshot.arms(ALIAS)
    assert canary is not None
    assert (stable.version, canary.version, canary.weight, canary.rollout_id) == (V1, V2, 3_000, 9)
    assert within_binomial(len(canary_keys(snapshot, keys[:5_000])), 5_000, 0.3)


def test_the_local_client_resolves_per_key(
    split_registry: Registry, client: LocalClient, keys: list[str]
) -> None:
    arms = {key: client.resolve(ALIAS, key=key) for key in keys[:300]}
    assert {r.arm for r in arms.values()} == {STABLE_ARM, CANARY_ARM}
    for key, resolution in arms.items():
        assert client.resolve(ALIAS, key=key) == resolution
        assert (resolution.canary, resolution.rollout_id) == (V2, 9)
    set_canary(split_registry, ALIAS, None)  # the rollout ends: everyone back on stable
    wait_until(lambda: client.resolve(ALIAS).canary is None, "the follower to see the end")
    assert {client.resolve(ALIAS, key=key).arm for key in keys[:300]} == {STABLE_ARM}
