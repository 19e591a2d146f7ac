"""``GET /api/v1/deprecations``: a viewer token, and the SDK over HTTP, get the findings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import httpx

from turnout.domain.access import LOCAL_ADMIN, Role
from turnout.domain.deprecations import Use, UseRole
from turnout.http_client import HttpClient
from turnout.services.registry import Registry


def _seed(registry: Registry) -> None:
    # the fake clock says 2026-01-15: the canary candidate retires in 10 days
    registry.versions.add(LOCAL_ADMIN, "sim/chat-001")
    registry.versions.add(LOCAL_ADMIN, "sim/chat-002", retirement_date=date(2026, 1, 25))
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", "sim/chat-001")
    registry.rollouts.start(LOCAL_ADMIN, "prod-chat", "sim/chat-002")


def test_a_viewer_reads_deprecations_and_the_sdk_decodes_them(
    registry: Registry,
    api_url: str,
    as_role: Callable[[Role], httpx.Client],
    make_token: Callable[..., str],
) -> None:
    _seed(registry)
    viewer = as_role(Role.VIEWER)
    body = viewer.get("/deprecations", params={"within_days": 30}).json()
    assert body["within_days"] == 30
    assert [(d["version"], d["days_left"], d["used_by"]) for d in body["data"]] == [
        ("sim/chat-002", 10, [{"alias": "prod-chat", "role": "canary"}])
    ]
    assert viewer.get("/deprecations", params={"within_days": 5}).json()["data"] == []
    assert viewer.get("/deprecations", params={"within_days": -1}).status_code in (400, 422)
    with HttpClient(api_url, make_token(Role.VIEWER)) as sdk:
        (finding,) = sdk.deprecations(30)
    assert finding.uses == (Use("prod-chat", UseRole.CANARY),)
    assert finding.retires == date(2026, 1, 25)
