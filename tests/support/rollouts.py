"""Rollout test scaffolding: two sim versions, an alias, and gateway-like traffic.

Traffic is written straight into the request log (as the gateway's writer would),
split by the alias's current canary exactly as the router splits it.
"""

from __future__ import annotations

import random

import pytest
from tests.conftest import FakeClock

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.bucketing import bucket, in_canary
from turnout.domain.requests import RequestRecord
from turnout.domain.rollouts import RolloutPlan
from turnout.services.registry import Registry
from turnout.services.rollouts import RolloutService
from turnout.store import SqlStore

__all__ = ["ALIAS", "CANARY", "FAST", "FAST_PLAN", "STABLE", "Traffic", "rollout_setup", "traffic"]

ALIAS = "prod-chat"
STABLE = "sim/steady-2026-01-01"
CANARY = "sim/fresh-2026-02-01"

FAST = {
    "steps": [1, 10, 50, 100],
    "min_samples": 100,
    "min_duration_s": 30,
    "max_duration_s": 3600,
    "gates": [{"metric": "error_rate", "max_ratio": 1.0}],
}

FAST_PLAN = RolloutPlan.from_dict(FAST)


@pytest.fixture
def rollout_setup(registry: Registry, store: SqlStore) -> Registry:
    # a fixed salt makes the split, so every run, the same: random salts would make
    # these statistical tests pass or fail by luck (rarely, but not never)
    registry.rollouts = RolloutService(registry.ctx, registry.aliases, store, lambda: "5a17")
    registry.versions.add(LOCAL_ADMIN, STABLE)
    registry.versions.add(LOCAL_ADMIN, CANARY)
    registry.aliases.set(LOCAL_ADMIN, ALIAS, STABLE)
    return registry


class Traffic:
    """Writes gateway-like request-log rows for the alias's current split."""

    def __init__(self, registry: Registry, store: SqlStore, clock: FakeClock) -> None:
        self.registry, self.store, self.clock = registry, store, clock
        self.rng = random.Random(7)
        self.n = 0

    def serve(self, count: int, stable_errors: float, canary_errors: float) -> None:
        target = self.registry.aliases.get(ALIAS).target
        records = []
        for _ in range(count):
            self.n += 1
            key = f"user-{self.n}"
            canary = target.canary is not None and in_canary(
                bucket(target.canary.salt, key), target.canary.weight
            )
            version = (
                str(target.canary.version) if canary and target.canary else str(target.version)
            )
            failed = self.rng.random() < (canary_errors if canary else stable_errors)
            records.append(
                RequestRecord(
                    request_id=f"req_{self.n:024x}",
                    at=self.clock.advance(0.01),
                    alias=ALIAS,
                    version=version,
                    arm="canary" if canary else "stable",
                    key_hash=None,
                    status=502 if failed else 200,
                    error_class="provider_error" if failed else None,
                    latency_ms=self.rng.uniform(90, 110),
                    ttft_ms=None,
                    tokens_in=10,
                    tokens_out=5,
                    cost_usd=None,
                    stream=False,
                )
            )
        self.store.log_requests(records)


@pytest.fixture
def traffic(rollout_setup: Registry, store: SqlStore, clock: FakeClock) -> Traffic:
    return Traffic(rollout_setup, store, clock)
