"""Shadow candidates over the admin API and the HTTP SDK: the same values and errors
as the local client, roles enforced, bad input refused with nothing written."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from turnout.client import LocalClient
from turnout.domain.access import Role
from turnout.domain.aliases import AliasAction
from turnout.errors import InvalidInput, NotFound
from turnout.http_client import HttpClient

STABLE = "sim/steady-2026-01-01"
CANDIDATE = "sim/fresh-2026-02-01"
ALIAS = "prod-chat"


@pytest.fixture
def seeded(client: LocalClient) -> LocalClient:
    client.add_version(STABLE)
    client.add_version(CANDIDATE)
    client.set_alias(ALIAS, STABLE)
    return client


def _written(client: LocalClient) -> tuple[int, int]:
    return len(client.alias_history(ALIAS)), len(client.audit_entries(limit=None))


def test_start_status_stop_over_http(seeded: LocalClient, http_client: HttpClient) -> None:
    change = http_client.start_shadow(ALIAS, CANDIDATE, 0.25, max_rps=5.0, reason="compare")
    assert change.changed
    assert change.revision.action is AliasAction.SHADOW
    assert change.revision == seeded.alias_history(ALIAS)[-1]
    status = http_client.shadow_status(ALIAS)
    assert status == seeded.shadow_status(ALIAS)
    [row] = status["candidates"]  # type: ignore[misc]
    assert row["active"] is True
    assert row["policy"]["sample"] == 0.25
    assert row["pairs"] == 0
    stopped = http_client.stop_shadow(ALIAS, CANDIDATE)
    assert stopped.revision.target.shadows == ()
    assert seeded.get_alias(ALIAS).target.shadows == ()


def test_a_viewer_may_read_but_not_change(
    seeded: LocalClient, as_role: Callable[[Role], httpx.Client]
) -> None:
    viewer = as_role(Role.VIEWER)
    before = _written(seeded)
    refused = viewer.post(f"/aliases/{ALIAS}/shadows", json={"candidate": CANDIDATE})
    assert refused.status_code == 403
    assert viewer.get(f"/aliases/{ALIAS}/shadows").status_code == 200
    assert viewer.post(f"/aliases/{ALIAS}/shadows/stop", json={}).status_code == 403
    assert _written(seeded) == before


def test_bad_input_is_refused_and_writes_nothing(
    seeded: LocalClient, http_client: HttpClient, api: httpx.Client
) -> None:
    before = _written(seeded)
    for body in (
        {"candidate": CANDIDATE, "sample": 0},
        {"candidate": CANDIDATE, "sample": 2},
        {"candidate": CANDIDATE, "max_rps": -1},
        {"candidate": CANDIDATE, "colour": "red"},
        {"sample": 0.5},
    ):
        response = api.post(f"/aliases/{ALIAS}/shadows", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(NotFound):
        http_client.start_shadow(ALIAS, "sim/never-registered-2026-01-01")
    with pytest.raises(InvalidInput):
        http_client.start_shadow(ALIAS, STABLE)
    with pytest.raises(NotFound):
        http_client.stop_shadow(ALIAS)
    with pytest.raises(NotFound):
        http_client.shadow_status("no-such-alias")
    assert api.get(f"/aliases/{ALIAS}/shadows", params={"window_hours": 0}).status_code == 400
    assert _written(seeded) == before
