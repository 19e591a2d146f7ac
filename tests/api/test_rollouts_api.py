"""Rollouts over the admin API and the HTTP SDK: the local client's values and errors."""

from __future__ import annotations

import math
from collections.abc import Callable

import httpx
import pytest
from tests.api.conftest import MakeToken

from turnout.client import LocalClient
from turnout.domain.access import Role
from turnout.domain.gates import GateResult, Metric, Verdict
from turnout.domain.rollouts import RolloutStatus
from turnout.errors import InvalidInput, NotFound, PermissionDenied
from turnout.http_client import HttpClient
from turnout.serialize import gate_result_from_json, rollout_report_json

STABLE = "sim/steady-2026-01-01"
CANARY = "sim/fresh-2026-02-01"
ALIAS = "prod-chat"
POLICY = {"min_samples": 100, "gates": [{"metric": "error_rate", "max_ratio": 1.0}]}


@pytest.fixture
def seeded(client: LocalClient) -> LocalClient:
    client.add_version(STABLE)
    client.add_version(CANARY)
    client.set_alias(ALIAS, STABLE)
    return client


def _written(client: LocalClient) -> tuple[int, int, int]:
    """What a refused request must leave alone: rollouts, alias revisions, audit entries."""
    return (
        len(client.list_rollouts()),
        len(client.alias_history(ALIAS)),
        len(client.audit_entries(limit=None)),
    )


def test_a_rollout_over_http_matches_the_local_client(
    seeded: LocalClient, http_client: HttpClient
) -> None:
    started = http_client.start_rollout(ALIAS, CANARY, [5, 50, 100], POLICY, "new model")
    assert started == seeded.list_rollouts(ALIAS)[0]
    assert (started.status, started.weight, started.actor) == (
        RolloutStatus.RUNNING,
        500,
        "token:admin",
    )
    assert seeded.get_alias(ALIAS).target.canary is not None

    report = http_client.rollout_status(ALIAS)
    local = seeded.rollout_status(ALIAS)
    assert report.rollout == local.rollout
    assert rollout_report_json(report) == rollout_report_json(local)
    assert [r.metric for r in report.results] == [Metric.ERROR_RATE]

    paused = http_client.rollout_action(ALIAS, "pause", "looking at logs")
    assert paused.status is RolloutStatus.PAUSED
    assert paused == seeded.list_rollouts(ALIAS)[0]
    resumed = http_client.rollout_action(ALIAS, "resume")
    assert resumed.status is RolloutStatus.RUNNING
    aborted = http_client.rollout_action(ALIAS, "abort", "enough")
    assert aborted.status is RolloutStatus.ABORTED
    assert aborted == seeded.list_rollouts(ALIAS)[0]
    assert seeded.get_alias(ALIAS).target.canary is None

    assert http_client.list_rollouts() == seeded.list_rollouts()
    assert http_client.list_rollouts(ALIAS) == [aborted]
    assert http_client.list_rollouts("other-alias") == []


def test_the_status_route_has_the_cli_json_shape(seeded: LocalClient, api: httpx.Client) -> None:
    created = api.post(f"/aliases/{ALIAS}/rollout", json={"to": CANARY, "policy": POLICY})
    assert created.status_code == 201
    assert created.json()["candidate"] == CANARY
    body = api.get(f"/aliases/{ALIAS}/rollout").json()
    assert body == rollout_report_json(seeded.rollout_status(ALIAS))
    assert set(body["samples"]) == {"canary", "stable", "canary_this_step"}
    assert body["gates"][0]["metric"] == "error_rate"
    listed = api.get("/rollouts", params={"alias": ALIAS}).json()["data"]
    assert [r["id"] for r in listed] == [body["id"]]


def test_a_viewer_may_read_but_not_start(
    seeded: LocalClient,
    as_role: Callable[[Role], httpx.Client],
    api_url: str,
    make_token: MakeToken,
) -> None:
    viewer = as_role(Role.VIEWER)
    before = _written(seeded)
    refused = viewer.post(f"/aliases/{ALIAS}/rollout", json={"to": CANARY})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == PermissionDenied.code
    assert _written(seeded) == before

    seeded.start_rollout(ALIAS, CANARY, policy=POLICY)
    assert viewer.get(f"/aliases/{ALIAS}/rollout").status_code == 200
    assert viewer.get("/rollouts").status_code == 200
    assert viewer.post(f"/aliases/{ALIAS}/rollout/abort", json={}).status_code == 403
    with HttpClient(api_url, make_token(Role.VIEWER)) as sdk, pytest.raises(PermissionDenied):
        sdk.rollout_action(ALIAS, "pause")
    assert seeded.rollout_status(ALIAS).rollout.status is RolloutStatus.RUNNING


def test_bad_input_is_refused_and_writes_nothing(
    seeded: LocalClient, http_client: HttpClient, api: httpx.Client
) -> None:
    before = _written(seeded)
    with pytest.raises(NotFound):
        http_client.start_rollout(ALIAS, "sim/never-registered-2026-01-01")
    with pytest.raises(InvalidInput):
        http_client.start_rollout(ALIAS, CANARY, [1, 10, 50])
    with pytest.raises(InvalidInput):
        http_client.start_rollout(ALIAS, CANARY, policy={"no_such_key": 1})
    with pytest.raises(NotFound):
        http_client.start_rollout("no-such-alias", CANARY)
    bad_steps = api.post(f"/aliases/{ALIAS}/rollout", json={"to": CANARY, "steps": [1, 50]})
    assert bad_steps.status_code == 400
    assert bad_steps.json()["error"]["type"] == "invalid_request_error"
    extra = api.post(f"/aliases/{ALIAS}/rollout", json={"to": CANARY, "speed": "fast"})
    assert extra.status_code == 400
    assert _written(seeded) == before

    with pytest.raises(NotFound):
        http_client.rollout_status(ALIAS)
    http_client.start_rollout(ALIAS, CANARY, policy=POLICY)
    before = _written(seeded)
    unknown = api.post(f"/aliases/{ALIAS}/rollout/explode", json={})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == InvalidInput.code
    assert "pause, resume, approve, abort" in unknown.json()["error"]["message"]
    with pytest.raises(InvalidInput):
        http_client.rollout_action(ALIAS, "explode")
    assert _written(seeded) == before
    assert seeded.rollout_status(ALIAS).rollout.status is RolloutStatus.RUNNING


def test_a_protected_alias_needs_a_deployer_with_a_reason(
    seeded: LocalClient, api_url: str, make_token: MakeToken
) -> None:
    seeded.protect_alias(ALIAS, True, "production")
    operator_token, deployer_token = make_token(Role.OPERATOR), make_token(Role.DEPLOYER)
    before = _written(seeded)  # issuing the tokens is audited too
    with HttpClient(api_url, operator_token) as operator, pytest.raises(PermissionDenied):
        operator.start_rollout(ALIAS, CANARY, policy=POLICY, reason="try it")
    with HttpClient(api_url, deployer_token) as deployer:
        with pytest.raises(PermissionDenied):
            deployer.start_rollout(ALIAS, CANARY, policy=POLICY)
        assert _written(seeded) == before
        started = deployer.start_rollout(ALIAS, CANARY, policy=POLICY, reason="ticket 42")
        assert started.reason == "ticket 42"
        with pytest.raises(PermissionDenied):
            deployer.rollout_action(ALIAS, "abort")
        assert deployer.rollout_action(ALIAS, "abort", "rolling back").status is (
            RolloutStatus.ABORTED
        )


def test_gate_results_survive_json_with_unbounded_intervals() -> None:
    result = GateResult(
        Metric.LATENCY_P95,
        "max_ratio 1.2",
        Verdict.INSUFFICIENT,
        1.05,
        (0.9, math.inf),
        None,
        (40, 400),
        0.025,
        "latency_p95: ... -> insufficient",
    )
    assert gate_result_from_json(result.to_dict()) == result
