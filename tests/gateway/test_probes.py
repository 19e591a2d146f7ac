"""What operators and load balancers see on the gateway's port: metrics, probes, admin API.

Also the two start-up edge cases of the snapshot feed as the gateway shows them:
with neither store nor snapshot file it is not ready (503 everywhere on the
OpenAI routes, never a misleading "unknown alias"), and with only the file it
serves the last good routing, degraded (fail-static).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import openai
import pytest
from tests.gateway.conftest import (
    ALIAS,
    BROKEN,
    BROKEN_V,
    DEADLINE_S,
    MESSAGES,
    V1,
    sample,
    scrape,
    wait_until,
)

from turnout.domain.access import LOCAL_ADMIN, Role
from turnout.services.registry import Registry
from turnout.wiring import build_server_app

UNREACHABLE_DB = "postgresql+psycopg://turnout@127.0.0.1:1/turnout"
"""Nothing listens on port 1: every connection is refused at once."""

ServeAsgi = Callable[..., str]


def test_metrics_count_requests_errors_latency_and_ttft(
    oai: openai.OpenAI, gateway_url: str, seeded: Registry
) -> None:
    oai.chat.completions.create(model=ALIAS, messages=MESSAGES)
    with oai.chat.completions.create(model=ALIAS, messages=MESSAGES, stream=True) as stream:
        for _ in stream:
            pass
    with pytest.raises(openai.InternalServerError):
        oai.chat.completions.create(model=BROKEN, messages=MESSAGES)

    good = {"alias": ALIAS, "version": V1, "arm": "stable"}
    bad = {"alias": BROKEN, "version": BROKEN_V, "arm": "stable"}

    def recorded() -> bool:  # metrics are recorded just after the last byte is sent
        return sample(gateway_url, "turnout_request_errors_total", **bad) == 1.0

    wait_until(recorded, "the failed request in /metrics")
    metrics = scrape(gateway_url)

    def value(name: str, **labels: str) -> float | None:
        return metrics.get((name, frozenset(labels.items())))

    assert value("turnout_requests_total", **good) == 2.0
    assert value("turnout_request_errors_total", **good) == 0.0
    assert value("turnout_requests_total", **bad) == 1.0
    assert value("turnout_request_latency_seconds_count", **good) == 2.0
    assert (value("turnout_request_latency_seconds_sum", **good) or 0) > 0
    assert value("turnout_time_to_first_token_seconds_count", **good) == 1.0
    assert not value("turnout_time_to_first_token_seconds_count", **bad)  # no token ever
    assert value("turnout_request_log_dropped") == 0.0
    assert value("turnout_snapshot_marker") == seeded.ctx.store.change_marker()
    assert value("turnout_degraded") == 0.0

    response = httpx.get(f"{gateway_url}/metrics")
    assert response.headers["content-type"].startswith("text/plain")

    # The marker follows registry writes.
    seeded.aliases.set(LOCAL_ADMIN, "extract", V1)
    marker = seeded.ctx.store.change_marker()
    assert marker > (value("turnout_snapshot_marker") or 0)
    wait_until(
        lambda: sample(gateway_url, "turnout_snapshot_marker") == marker,
        "the new marker in /metrics",
    )


def test_probes_and_admin_api_share_the_port(gateway_url: str, seeded: Registry) -> None:
    ready = httpx.get(f"{gateway_url}/readyz")
    assert ready.status_code == 200
    status = ready.json()
    assert status["status"] == "ok"
    assert status["ready"] is True
    assert status["degraded"] is None
    assert status["source"] == "store"
    assert status["marker"] == seeded.ctx.store.change_marker()
    assert status["request_log"] == {"pending": 0, "dropped": 0, "last_error": None}

    health = httpx.get(f"{gateway_url}/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}

    token = seeded.tokens.create(LOCAL_ADMIN, "ops", Role.VIEWER).secret
    with httpx.Client(base_url=f"{gateway_url}/api/v1", timeout=DEADLINE_S) as api:
        listed = api.get("/aliases", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200, listed.text
        assert ALIAS in listed.text

        anonymous = api.get("/aliases")
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == "unauthenticated"
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(f"{gateway_url}/api/openapi.json").status_code == 200


def test_not_ready_without_store_or_snapshot_file(tmp_path: Path, serve_asgi: ServeAsgi) -> None:
    url = serve_asgi(build_server_app(UNREACHABLE_DB, snapshot_path=tmp_path / "none.json"))

    ready = httpx.get(f"{url}/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "not_ready"
    assert ready.json()["degraded"]
    assert httpx.get(f"{url}/healthz").status_code == 200  # alive, just not ready

    with openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0) as oai:
        with pytest.raises(openai.InternalServerError) as caught:
            oai.chat.completions.create(model=ALIAS, messages=MESSAGES)
        assert caught.value.status_code == 503
        assert caught.value.code == "store_unavailable"
        with pytest.raises(openai.InternalServerError) as listed:
            oai.models.list()
        assert listed.value.status_code == 503


def test_fail_static_from_the_snapshot_file(
    db_url: str, seeded: Registry, snapshot_path: Path, serve_asgi: ServeAsgi
) -> None:
    first = serve_asgi(build_server_app(db_url, snapshot_path=snapshot_path))
    assert httpx.get(f"{first}/readyz").json()["source"] == "store"
    assert snapshot_path.exists()

    # A second gateway whose store is down starts from the file the first one wrote.
    second = serve_asgi(build_server_app(UNREACHABLE_DB, snapshot_path=snapshot_path))
    ready = httpx.get(f"{second}/readyz")
    assert ready.status_code == 200
    status = ready.json()
    assert status["source"] == "file"
    assert status["status"] == "degraded"
    assert status["marker"] == seeded.ctx.store.change_marker()

    with openai.OpenAI(base_url=f"{second}/v1", api_key="x", max_retries=0) as oai:
        raw = oai.chat.completions.with_raw_response.create(model=ALIAS, messages=MESSAGES)
        assert raw.headers["x-turnout-version"] == V1
        assert "42" in (raw.parse().choices[0].message.content or "")
    assert sample(second, "turnout_degraded") == 1.0
