"""Config as code over the admin API: plan and apply a turnout.yaml sent as text.

Runs on SQLite and PostgreSQL. What matters: a viewer may plan but not apply,
errors keep their file:line, a refused apply writes nothing, and a plan over
HTTP says what a plan on the database says (the same warnings included).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from turnout.client import LocalClient
from turnout.domain.access import Role
from turnout.errors import ConfigError, PermissionDenied
from turnout.http_client import HttpClient

V1, V2 = "sim/chat-2025-01-01", "sim/chat-2025-06-01"

FILE = f"""\
versions:
  - id: {V1}
    params: {{latency_ms: 5}}
  - id: {V2}
aliases:
  prod-chat:
    version: {V1}
    fallbacks: [{V2}]
    protected: true
"""


def _body(text: str = FILE, **extra: Any) -> dict[str, Any]:
    return {"config": text, "file": "ops/turnout.yaml", **extra}


def test_a_viewer_plans_and_nothing_is_written(
    client: LocalClient, as_role: Callable[[Role], httpx.Client]
) -> None:
    answer = as_role(Role.VIEWER).post("/config/plan", json=_body())
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["applied"] is False
    assert [c["kind"] for c in found["changes"]] == ["add_version", "add_version", "create_alias"]
    assert found["summary"] == "Plan: 3 to add, 0 to change."
    assert "protected alias(es) prod-chat change: apply needs --reason" in found["warnings"]
    assert client.list_versions() == []
    assert client.list_aliases() == []


def test_apply_needs_a_deployer_and_a_reason_for_a_protected_alias(
    client: LocalClient, as_role: Callable[[Role], httpx.Client]
) -> None:
    for role in (Role.VIEWER, Role.OPERATOR):
        refused = as_role(role).post("/config/apply", json=_body(reason="x"))
        assert refused.status_code == 403
    no_reason = as_role(Role.DEPLOYER).post("/config/apply", json=_body())
    assert no_reason.status_code == 403
    assert "reason" in no_reason.json()["error"]["message"]
    assert client.list_versions() == []  # all or nothing: the versions were not kept either
    done = as_role(Role.DEPLOYER).post("/config/apply", json=_body(reason="launch"))
    assert done.status_code == 200, done.text
    assert done.json()["applied"] is True
    assert str(client.get_alias("prod-chat").target.version) == V1
    again = as_role(Role.VIEWER).post("/config/plan", json=_body())
    assert again.json()["changes"] == []
    assert again.json()["summary"].startswith("No changes")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("versions:\n  - id: sim/chat-2025-01-01\n    params: {x: 5\n", "ops/turnout.yaml:"),
        ("versions:\n  - id: sim/chat-2025-01-01\n    prompt_version: 'a b'\n", "yaml:3"),
        ("aliases:\n  prod-chat:\n    version: sim/chat-2025-01-01\n    colour: red\n", ":4"),
    ],
)
def test_a_bad_file_is_a_400_with_its_line_and_writes_nothing(
    client: LocalClient, api: httpx.Client, text: str, where: str
) -> None:
    for path in ("/config/plan", "/config/apply"):
        answer = api.post(path, json=_body(text, reason="x"))
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert error["code"] == "config_error"
        assert where in error["message"]
    assert client.list_versions() == []


def test_a_floating_id_is_refused_with_the_pinning_error(
    client: LocalClient, api: httpx.Client
) -> None:
    answer = api.post("/config/apply", json=_body("versions:\n  - id: openai/gpt-4o\n"))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "floating_version"
    assert "openai/gpt-4o-2024-11-20" in answer.json()["error"]["message"]
    assert client.list_versions() == []


def test_malformed_bodies_are_refused(api: httpx.Client) -> None:
    assert api.post("/config/plan", json={"file": "x.yaml"}).status_code in (400, 422)
    assert api.post("/config/plan", json=_body(colour="red")).status_code in (400, 422)
    assert api.post("/config/plan", content=b"not json").status_code in (400, 422)
    huge = "#" * (4 * 1024 * 1024 + 1)
    assert api.post("/config/plan", json=_body(huge)).status_code in (400, 413, 422)


def test_the_sdk_plans_and_applies_over_http(client: LocalClient, http_client: HttpClient) -> None:
    planned = http_client.plan_config(FILE, "turnout.yaml", None)
    assert len(planned["changes"]) == 3
    applied = http_client.apply_config(FILE, "turnout.yaml", "launch")
    assert applied["applied"] is True
    assert str(client.get_alias("prod-chat").target.version) == V1
    with pytest.raises(ConfigError, match=r"turnout.yaml:3"):
        http_client.plan_config("versions:\n  - id: sim/a-2025-01-01\n  x: [\n", "turnout.yaml")


def test_the_sdk_reports_a_refused_apply_as_the_local_exception(
    api_url: str, make_token: Callable[..., str]
) -> None:
    with HttpClient(api_url, make_token(Role.VIEWER)) as viewer, pytest.raises(PermissionDenied):
        viewer.apply_config(FILE, "turnout.yaml", "launch")
