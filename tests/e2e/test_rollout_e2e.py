"""A rollout through real gateway processes: a regressing sim canary is rolled back
by the controller running inside ``turnout serve`` — one of the replicas acts, the
alias goes back to stable on every replica, and the client sees errors only from
the canary itself, none from the rollback."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import yaml
from sqlalchemy import Row, create_engine, select

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.aliases import AliasAction
from turnout.domain.rollouts import RolloutStatus
from turnout.services.registry import Registry
from turnout.store.schema import request_log

if TYPE_CHECKING:  # fixtures' types; conftest is never imported by test modules
    from tests.e2e.conftest import CliRun, Fleet, Gateway

ALIAS = "prod-chat"
V1 = "sim/chat-2025-01-01"
BAD = "sim/chat-2025-03-01"


def _log_rows(db_url: str) -> list[Row[Any]]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(select(request_log.c.version, request_log.c.arm, request_log.c.status))
            )
    finally:
        engine.dispose()


def _ask(gateway: Gateway, user: str) -> httpx.Response:
    return gateway.http.post(
        f"{gateway.url}/v1/chat/completions",
        json={"model": ALIAS, "user": user, "messages": [{"role": "user", "content": "ping"}]},
    )


@pytest.mark.postgres
def test_a_regressing_canary_is_rolled_back_on_every_replica(
    pg_registry: Registry, e2e_pg_url: str, fleet: Fleet, cli: CliRun, tmp_path: Path
) -> None:
    pg_registry.versions.add(LOCAL_ADMIN, BAD, params={"latency_ms": 0, "error_rate": 0.5})
    gateways = fleet.start_many(e2e_pg_url, 2)
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        yaml.safe_dump(
            {
                "steps": [20, 50, 100],
                "min_samples": 50,
                "min_duration_s": 1,
                "gates": [{"metric": "error_rate", "max_ratio": 1.0}],
            }
        )
    )
    cli(e2e_pg_url, "rollout", "start", ALIAS, "--to", BAD, "--policy", str(policy))

    outcomes: Counter[tuple[str, str, int]] = Counter()
    deadline = time.monotonic() + 60
    n = 0
    while pg_registry.rollouts.latest(ALIAS).status.active:
        assert time.monotonic() < deadline, "the controller never rolled the canary back"
        n += 1
        response = _ask(gateways[n % 2], f"user-{n}")
        arm, version = response.headers["x-turnout-arm"], response.headers["x-turnout-version"]
        outcomes[(arm, version, response.status_code)] += 1

    rollout = pg_registry.rollouts.latest(ALIAS)
    assert rollout.status is RolloutStatus.ROLLED_BACK
    history = pg_registry.aliases.history(ALIAS)
    assert [r.action for r in history].count(AliasAction.AUTO_ROLLBACK) == 1  # one controller
    assert history[-1].actor == "rollout-controller"
    assert "error_rate" in (history[-1].reason or "")

    # after the rollback every replica serves stable to everyone, without errors.
    # Settle on the same 40 users checked below: one user proves nothing, since most
    # users were in the stable arm all along.
    users = [f"user-{i}" for i in range(40)]
    settled = time.monotonic() + 5
    while any(_ask(g, u).headers["x-turnout-arm"] != "stable" for g in gateways for u in users):
        assert time.monotonic() < settled, "a replica still serves the canary"
        time.sleep(0.05)
    for i in range(40):
        response = _ask(gateways[i % 2], f"user-{i}")
        assert response.status_code == 200
        assert response.headers["x-turnout-version"] == V1
        outcomes[("stable", V1, 200)] += 1

    # the client saw no error: a failed canary call was retried on the stable version
    # (arm "fallback"), while the failed attempt itself went to the request log, where
    # the error-rate gate found it
    errors = {key: count for key, count in outcomes.items() if key[2] != 200}
    assert errors == {}
    assert outcomes[("fallback", V1, 200)] > 0
    assert outcomes[("canary", BAD, 200)] > 0  # a sticky split, not all-or-nothing
    failed = [r for r in _log_rows(e2e_pg_url) if r.version == BAD and r.status >= 500]
    assert failed
    assert {r.arm for r in failed} == {"canary"}
    for gateway in gateways:
        assert "Traceback" not in gateway.log()
