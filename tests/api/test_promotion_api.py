"""The promotion policy over the admin API and the HTTP SDK: roles, bad input, and a
refused flip arriving as the same exception as locally (HTTP 409 promotion_refused)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from turnout.client import LocalClient
from turnout.domain.access import Role
from turnout.domain.promotion import PromotionPolicy
from turnout.errors import NotFound, PromotionRefused
from turnout.http_client import HttpClient

STABLE = "sim/steady-2026-01-01"
CANDIDATE = "sim/fresh-2026-02-01"
ALIAS = "prod-chat"
POLICY = PromotionPolicy(("qa",), min_score=0.8)


@pytest.fixture
def seeded(client: LocalClient) -> LocalClient:
    client.add_version(STABLE)
    client.add_version(CANDIDATE)
    client.set_alias(ALIAS, STABLE)
    return client


def test_policy_over_http_guards_a_flip(seeded: LocalClient, http_client: HttpClient) -> None:
    change = http_client.set_promotion(ALIAS, POLICY, "guard")
    assert change.revision.target.promotion == POLICY
    assert seeded.get_alias(ALIAS).target.promotion == POLICY
    with pytest.raises(PromotionRefused, match="an eval run of suite 'qa'"):
        http_client.set_alias(ALIAS, CANDIDATE)
    assert str(seeded.get_alias(ALIAS).target.version) == STABLE
    http_client.set_promotion(ALIAS, None, "done")
    assert http_client.set_alias(ALIAS, CANDIDATE).changed


def test_roles_and_bad_input(
    seeded: LocalClient, as_role: Callable[[Role], httpx.Client], api: httpx.Client
) -> None:
    body = {"policy": POLICY.to_dict(), "reason": "x"}
    assert as_role(Role.OPERATOR).put(f"/aliases/{ALIAS}/promotion", json=body).status_code == 403
    assert as_role(Role.DEPLOYER).put(f"/aliases/{ALIAS}/promotion", json=body).status_code == 200
    clear = {"policy": None, "reason": "x"}
    assert as_role(Role.DEPLOYER).put(f"/aliases/{ALIAS}/promotion", json=clear).status_code == 403
    revision = seeded.get_alias(ALIAS).revision
    for bad in (
        {"policy": {"suites": ["qa"], "colour": "red"}},
        {"policy": {}},
        {"policy": {"suites": ["qa"], "min_score": 5}},
        {"reason": "no policy key"},
    ):
        response = api.put(f"/aliases/{ALIAS}/promotion", json=bad)
        assert response.status_code == 400, bad
    assert seeded.get_alias(ALIAS).revision == revision
    assert api.put(f"/aliases/{ALIAS}/promotion", json=clear).status_code == 200
    with pytest.raises(NotFound):
        seeded.set_promotion(ALIAS, None)
