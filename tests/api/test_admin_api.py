"""The admin API over real HTTP: every route, every refusal, and nothing written when refused."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter

from turnout.domain.access import LOCAL_ADMIN, Role
from turnout.gateway.app import build_app
from turnout.gateway.server import create_app_from_env
from turnout.serialize import alias_json, revision_json, token_json, version_json
from turnout.services.registry import Registry

V1 = "openai/gpt-4o-2024-11-20"
V2 = "openai/gpt-4o-2024-08-06"
V3 = "anthropic/claude-sonnet-4-5-20250929"
ALIAS = "prod-chat"

AsRole = Callable[[Role], httpx.Client]
Serve = Callable[..., str]


@pytest.fixture
def seeded(registry: Registry) -> Registry:
    """Three registered versions and ``prod-chat`` at revision 1 serving V1."""
    for vid in (V1, V2, V3):
        registry.versions.add(LOCAL_ADMIN, vid)
    registry.aliases.set(LOCAL_ADMIN, ALIAS, V1)
    return registry


def audit_count(registry: Registry) -> int:
    return registry.ctx.store.change_marker()


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert the OpenAI-shaped error envelope and return its ``error`` object."""
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["type"]
    return error


def state(registry: Registry) -> tuple[int, int]:
    """What a refused request must leave alone: the audit log and the alias revision."""
    return audit_count(registry), registry.aliases.get(ALIAS).revision


@pytest.fixture
def unchanged(seeded: Registry) -> Iterator[None]:
    """Fail the test if anything was written while it ran (a refused request wrote)."""
    before = state(seeded)
    yield
    assert state(seeded) == before


# -- happy paths ---------------------------------------------------------------


def test_healthz_and_docs_need_no_token(api_url: str) -> None:
    assert httpx.get(f"{api_url}/healthz").json() == {"status": "ok"}
    spec = httpx.get(f"{api_url}/api/openapi.json").json()
    assert "/api/v1/aliases/{name}/rollback" in spec["paths"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    put_alias = spec["paths"]["/api/v1/aliases/{name}"]["put"]["responses"]
    assert "400" in put_alias
    assert "422" not in put_alias
    assert "text/html" in httpx.get(f"{api_url}/api/docs").headers["content-type"]


def test_version_routes(api: httpx.Client, registry: Registry) -> None:
    created = api.post(
        "/versions",
        json={
            "id": V1,
            "params": {"temperature": 0.2, "max_tokens": 256, "json": True},
            "prompt_version": "chat-v7",
            "dataset_version": "golden-2026-01",
        },
    )
    assert created.status_code == 201
    assert created.json() == version_json(registry.versions.get(V1))
    assert created.json()["params"] == {"temperature": 0.2, "max_tokens": 256, "json": True}
    assert created.json()["introduced_by"] == "token:admin"
    api.post("/versions", json={"id": V2}).raise_for_status()

    listed = api.get("/versions").json()["data"]
    assert [v["id"] for v in listed] == [V2, V1]
    assert api.get(f"/versions/{V1}").json() == created.json()

    issue = api.post(f"/versions/{V1}/known-issues", json={"text": "truncates tables"})
    assert issue.status_code == 201
    assert [i["text"] for i in issue.json()["known_issues"]] == ["truncates tables"]
    assert issue.json() == version_json(registry.versions.get(V1))


def test_alias_routes(api: httpx.Client, seeded: Registry, clock: Any) -> None:
    created = api.put("/aliases/canary", json={"version": V1, "fallbacks": [V3]})
    assert created.status_code == 200
    assert created.json()["changed"] is True
    assert created.json()["revision"]["action"] == "create"
    assert created.headers["etag"] == '"1"'
    again = api.put("/aliases/canary", json={"version": V1})
    assert again.json() == {"revision": created.json()["revision"], "changed": False}

    first_at = clock.now
    clock.advance(60)
    flipped = api.put(f"/aliases/{ALIAS}", json={"version": V2, "reason": "eval win"})
    assert flipped.json()["revision"]["revision"] == 2
    assert flipped.json()["revision"]["previous"]["version"] == V1

    assert api.get("/aliases").json()["data"] == [alias_json(a) for a in seeded.aliases.all()]
    shown = api.get(f"/aliases/{ALIAS}")
    assert shown.json() == alias_json(seeded.aliases.get(ALIAS))
    assert shown.headers["etag"] == '"2"'
    history = api.get(f"/aliases/{ALIAS}/history").json()["data"]
    assert history == [revision_json(r) for r in seeded.aliases.history(ALIAS)]

    clock.advance(60)
    rolled = api.post(f"/aliases/{ALIAS}/rollback", json={"reason": "latency"})
    assert rolled.json()["revision"]["target"]["version"] == V1
    assert rolled.json()["revision"]["restored_from"] == 1
    bare = api.post(f"/aliases/{ALIAS}/rollback")  # no body: the defaults
    assert bare.json()["revision"]["target"]["version"] == V2

    protected = api.post(f"/aliases/{ALIAS}/protect", json={"protected": True, "reason": "prod"})
    assert protected.json()["revision"]["action"] == "protect"
    assert seeded.aliases.get(ALIAS).protected is True

    now = api.get(f"/aliases/{ALIAS}/resolve").json()
    assert now["target"]["version"] == V2
    then = api.get(f"/aliases/{ALIAS}/resolve", params={"at": first_at.isoformat()}).json()
    assert then["revision"] == 1
    naive = first_at.replace(tzinfo=None).isoformat()  # no offset: read as UTC
    assert api.get(f"/aliases/{ALIAS}/resolve", params={"at": naive}).json()["revision"] == 1


def test_token_routes(api: httpx.Client, api_url: str, registry: Registry) -> None:
    created = api.post("/tokens", json={"name": "ci", "role": "deployer", "expires_in_days": 30})
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    secret = created.json()["secret"]
    assert secret.startswith("tnt_")
    assert created.json()["token"]["role"] == "deployer"

    listed = api.get("/tokens").json()["data"]
    assert listed == [token_json(t) for t in registry.tokens.all(LOCAL_ADMIN)]
    assert secret not in str(listed)

    headers = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{api_url}/api/v1/versions", headers=headers).status_code == 200
    revoked = api.delete("/tokens/ci")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    error_of(httpx.get(f"{api_url}/api/v1/versions", headers=headers), 401, "unauthenticated")


def test_audit_and_snapshot_routes(api: httpx.Client, seeded: Registry) -> None:
    api.put(f"/aliases/{ALIAS}", json={"version": V2}).raise_for_status()
    entries = api.get("/audit", params={"limit": 2}).json()["data"]
    assert [e["action"] for e in entries] == ["alias.set", "alias.create"]
    about = api.get("/audit", params={"subject": ALIAS, "limit": 0}).json()["data"]
    assert {e["subject"] for e in about} == {ALIAS}
    assert len(about) == 2
    assert api.get("/audit/verify").json() == {
        "ok": True,
        "entries": audit_count(seeded),
        "first_bad_seq": None,
        "reason": None,
    }

    snapshot = api.get("/snapshot").json()
    assert snapshot == {
        "marker": audit_count(seeded),
        "aliases": {ALIAS: {"target": {"version": V2, "fallbacks": []}, "revision": 2}},
    }
    assert api.get("/snapshot/marker").json() == {"marker": snapshot["marker"]}
    api.put(f"/aliases/{ALIAS}", json={"version": V1}).raise_for_status()
    assert api.get("/snapshot/marker").json()["marker"] > snapshot["marker"]


# -- authentication and authorisation ------------------------------------------


def _every_admin_route(api_url: str) -> list[tuple[str, str]]:
    spec = httpx.get(f"{api_url}/api/openapi.json").json()
    fill = {"{version_id}": V1, "{name}": ALIAS, "{name_or_id}": "admin", "{action}": "pause"}
    routes = []
    for template, operations in spec["paths"].items():
        if template.startswith("/api/v1/"):
            path = template
            for key, value in fill.items():
                path = path.replace(key, value)
            routes += [(method.upper(), path) for method in operations]
    return routes


def test_every_admin_route_refuses_anonymous_callers(api_url: str, unchanged: None) -> None:
    routes = _every_admin_route(api_url)
    assert len(routes) == 29  # a new route is counted here: it must refuse anonymous callers too
    for method, path in routes:
        # Authentication comes before the body is even parsed: garbage still gets a 401.
        response = httpx.request(
            method,
            f"{api_url}{path}",
            content=b"{garbage",
            headers={"content-type": "application/json"},
        )
        error = error_of(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"].startswith("Bearer"), (method, path)
        assert "Authorization: Bearer" in error["message"]
        wrong = httpx.request(method, f"{api_url}{path}", headers={"Authorization": "Basic x"})
        error_of(wrong, 401, "unauthenticated")


@pytest.mark.parametrize("secret", ["tnt_not-a-real-token", "sk-openai-style"])
def test_unknown_tokens_are_refused(api_url: str, secret: str, unchanged: None) -> None:
    response = httpx.get(f"{api_url}/api/v1/aliases", headers={"Authorization": f"Bearer {secret}"})
    error_of(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_revoked_and_expired_tokens_are_refused(
    api_url: str, make_token: Callable[..., str], registry: Registry, clock: Any
) -> None:
    revoked = make_token(Role.ADMIN, "gone")
    registry.tokens.revoke(LOCAL_ADMIN, "gone")
    expiring = make_token(Role.ADMIN, "brief", timedelta(hours=1))
    url = f"{api_url}/api/v1/versions"
    assert httpx.get(url, headers={"Authorization": f"Bearer {expiring}"}).status_code == 200

    clock.advance(2 * 3600)
    for secret, words in ((revoked, "revoked"), (expiring, "expired")):
        response = httpx.get(url, headers={"Authorization": f"Bearer {secret}"})
        assert words in error_of(response, 401, "unauthenticated")["message"]
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_viewer_may_read_but_not_write(as_role: AsRole, seeded: Registry) -> None:
    seeded.aliases.set(LOCAL_ADMIN, ALIAS, V2)  # so a rollback would be possible
    viewer = as_role(Role.VIEWER)
    before = state(seeded)
    assert viewer.get("/aliases").status_code == 200
    assert viewer.get("/audit/verify").status_code == 200
    refusals = [
        viewer.post("/versions", json={"id": "openai/gpt-4o-2024-05-13"}),
        viewer.put(f"/aliases/{ALIAS}", json={"version": V2}),
        viewer.post(f"/aliases/{ALIAS}/rollback", json={}),
        viewer.post(f"/versions/{V1}/known-issues", json={"text": "x"}),
        viewer.post("/tokens", json={"name": "mine", "role": "admin"}),
        viewer.get("/tokens"),
        viewer.delete("/tokens/admin"),
    ]
    for response in refusals:
        assert "viewer" in error_of(response, 403, "permission_denied")["message"]
        assert response.json()["error"]["type"] == "permission_error"
    assert state(seeded) == before


def test_protected_alias_needs_a_deployer_and_a_reason(as_role: AsRole, seeded: Registry) -> None:
    seeded.aliases.set(LOCAL_ADMIN, ALIAS, V2)  # so a rollback would be possible
    seeded.aliases.protect(LOCAL_ADMIN, ALIAS, True, "production")
    operator, deployer = as_role(Role.OPERATOR), as_role(Role.DEPLOYER)
    before = state(seeded)
    error_of(
        operator.put(f"/aliases/{ALIAS}", json={"version": V2, "reason": "x"}),
        403,
        "permission_denied",
    )
    error_of(
        operator.post(f"/aliases/{ALIAS}/rollback", json={"reason": "x"}), 403, "permission_denied"
    )
    no_reason = deployer.put(f"/aliases/{ALIAS}", json={"version": V2})
    assert "reason" in error_of(no_reason, 403, "permission_denied")["message"]
    error_of(
        deployer.post(f"/aliases/{ALIAS}/protect", json={"protected": False, "reason": "x"}),
        403,
        "permission_denied",
    )
    assert state(seeded) == before

    allowed = deployer.put(f"/aliases/{ALIAS}", json={"version": V3, "reason": "INC-42"})
    assert allowed.status_code == 200
    assert allowed.json()["revision"]["reason"] == "INC-42"


# -- bad input, missing things, conflicts -----------------------------------------


def test_malformed_and_incomplete_bodies_are_400(api: httpx.Client, unchanged: None) -> None:
    bad_json = api.put(
        f"/aliases/{ALIAS}", content=b'{"version": ', headers={"content-type": "application/json"}
    )
    assert "not valid JSON" in error_of(bad_json, 400, "invalid_input")["message"]
    not_json = api.put(
        f"/aliases/{ALIAS}", content=b"version=x", headers={"content-type": "text/plain"}
    )
    assert "JSON object" in error_of(not_json, 400, "invalid_input")["message"]
    missing = error_of(api.put(f"/aliases/{ALIAS}", json={"reason": "x"}), 400, "invalid_input")
    assert missing["param"] == "version"
    assert "'version' is required" in missing["message"]
    extra = error_of(
        api.put(f"/aliases/{ALIAS}", json={"version": V2, "verison": 1}), 400, "invalid_input"
    )
    assert extra["param"] == "verison"
    wrong_type = error_of(
        api.put(f"/aliases/{ALIAS}", json={"version": V2, "expected_revision": "two"}),
        400,
        "invalid_input",
    )
    assert wrong_type["param"] == "expected_revision"
    error_of(api.post(f"/aliases/{ALIAS}/protect", json={}), 400, "invalid_input")
    error_of(api.get("/audit", params={"limit": -1}), 400, "invalid_input")
    error_of(api.post("/tokens", json={"name": "x", "role": "root"}), 400, "invalid_input")


def test_bad_ids_names_and_times_are_400(api: httpx.Client, unchanged: None) -> None:
    bad_id = error_of(api.post("/versions", json={"id": "gpt-4o-2024-11-20"}), 400, "invalid_input")
    assert "provider/model_id" in bad_id["message"]
    floating = error_of(
        api.post("/versions", json={"id": "openai/gpt-4o"}), 400, "floating_version"
    )
    assert floating["version_id"] == "openai/gpt-4o"
    assert V1 in floating["suggestions"]
    assert V1 in floating["message"]
    error_of(api.put(f"/aliases/{ALIAS}", json={"version": "not an id"}), 400, "invalid_input")
    bad_name = error_of(api.put("/aliases/Prod_Chat!", json={"version": V1}), 400, "invalid_input")
    assert "Prod_Chat!" in bad_name["message"]
    bad_time = error_of(
        api.get(f"/aliases/{ALIAS}/resolve", params={"at": "yesterday"}), 400, "invalid_input"
    )
    assert "'at'" in bad_time["message"]
    error_of(
        api.put(f"/aliases/{ALIAS}", json={"version": V2}, headers={"If-Match": "abc"}),
        400,
        "invalid_input",
    )


def test_unknown_things_are_404(api: httpx.Client, unchanged: None) -> None:
    error_of(api.get("/aliases/nope"), 404, "not_found")
    error_of(api.get("/aliases/nope/history"), 404, "not_found")
    error_of(api.post("/aliases/nope/rollback", json={}), 404, "not_found")
    error_of(api.get("/versions/openai/gpt-4o-2099-01-01"), 404, "not_found")
    error_of(
        api.post("/versions/openai/gpt-4o-2099-01-01/known-issues", json={"text": "x"}),
        404,
        "not_found",
    )
    unregistered = api.put(f"/aliases/{ALIAS}", json={"version": "openai/gpt-4o-2099-01-01"})
    assert "not registered" in error_of(unregistered, 404, "not_found")["message"]
    error_of(api.delete("/tokens/nobody"), 404, "not_found")
    error_of(api.get("/no-such-route"), 404, "not_found")
    error_of(api.patch(f"/aliases/{ALIAS}", json={}), 405, "method_not_allowed")


def test_stale_revisions_are_409(api: httpx.Client, seeded: Registry) -> None:
    seeded.aliases.set(LOCAL_ADMIN, ALIAS, V2)  # revision 2, so a rollback would be possible
    before = state(seeded)
    stale = api.put(f"/aliases/{ALIAS}", json={"version": V3, "expected_revision": 1})
    assert "revision 2" in error_of(stale, 409, "conflict")["message"]
    error_of(
        api.put(f"/aliases/{ALIAS}", json={"version": V3}, headers={"If-Match": '"7"'}),
        409,
        "conflict",
    )
    error_of(api.post(f"/aliases/{ALIAS}/rollback", json={"expected_revision": 1}), 409, "conflict")
    error_of(api.post(f"/aliases/{ALIAS}/rollback", headers={"If-Match": "1"}), 409, "conflict")
    error_of(
        api.put(
            f"/aliases/{ALIAS}",
            json={"version": V3, "expected_revision": 2},
            headers={"If-Match": "1"},
        ),
        400,
        "invalid_input",
    )
    assert state(seeded) == before


def test_if_match_makes_the_write_conditional(api: httpx.Client, seeded: Registry) -> None:
    etag = api.get(f"/aliases/{ALIAS}").headers["etag"]
    first = api.put(f"/aliases/{ALIAS}", json={"version": V2}, headers={"If-Match": etag})
    assert first.status_code == 200
    assert first.headers["etag"] == '"2"'
    second = api.put(f"/aliases/{ALIAS}", json={"version": V3}, headers={"If-Match": etag})
    error_of(second, 409, "conflict")
    assert seeded.aliases.get(ALIAS).target.version.model == "gpt-4o-2024-08-06"


def test_concurrent_flips_one_wins_the_rest_conflict(api: httpx.Client, seeded: Registry) -> None:
    statuses: list[int] = []
    start = threading.Barrier(4)

    def flip(version: str) -> None:
        start.wait()
        response = api.put(f"/aliases/{ALIAS}", json={"version": version, "expected_revision": 1})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=flip, args=(v,)) for v in (V2, V3, V2, V3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 409, 409, 409]
    assert seeded.aliases.get(ALIAS).revision == 2


# -- the app itself ------------------------------------------------------------


def test_unexpected_errors_are_500_without_internals(registry: Registry, serve_app: Serve) -> None:
    broken = APIRouter()

    @broken.get("/broken")
    def explode() -> None:
        raise RuntimeError("password=hunter2 in /srv/secret.py")

    url = serve_app(build_app(registry, routers=[broken]))
    response = httpx.get(f"{url}/broken")
    error = error_of(response, 500, "internal_error")
    assert "hunter2" not in response.text
    assert "secret.py" not in response.text
    assert "incident" in error["message"]
    assert error["type"] == "server_error"


def test_server_factory_reads_turnout_db(
    db_url: str, serve_app: Serve, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TURNOUT_DB", db_url)
    monkeypatch.setenv("TURNOUT_SNAPSHOT_FILE", str(tmp_path / "snapshot.json"))
    url = serve_app(create_app_from_env())  # the app owns (and closes) its registry
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{url}/api/v1/aliases").status_code == 401


def test_serve_runs_several_workers(db_url: str, tmp_path: Path) -> None:
    """``serve(workers=2)`` starts uvicorn workers from the import-string factory."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = f"from turnout.gateway.server import serve; serve({db_url!r}, '127.0.0.1', {port}, 2)"
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "TURNOUT_SNAPSHOT_FILE": str(tmp_path / "snapshot.json")},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                response = httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        assert response.json() == {"status": "ok"}
        refused = httpx.get(f"{base}/api/v1/aliases", headers={"Authorization": "Bearer tnt_x"})
        assert "unknown token" in refused.json()["error"]["message"]  # the registry answered
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert log_path.read_text().count("Started server process") == 2
