"""An outage routed around, end to end: a real ``turnout serve`` process on PostgreSQL,
the official ``openai`` client, and the primary sim version failing every request
until it recovers. The client sees no error; traffic comes back by itself."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import openai
import pytest

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.ids import VersionId
from turnout.domain.plan import DesiredState, DesiredVersion
from turnout.services.registry import Registry

if TYPE_CHECKING:  # fixtures' types; conftest is never imported by test modules
    from tests.e2e.conftest import CliRun, Fleet

ALIAS = "prod-chat"
PRIMARY = "sim/chat-2025-01-01"
FALLBACK = "sim/chat-2025-02-01"  # both seeded by the e2e conftest


def _set_error_rate(registry: Registry, rate: float) -> None:
    """The outage switch: the primary's sim params, changed the way `turnout apply` does."""
    desired = DesiredState(
        versions=(DesiredVersion(VersionId.parse(PRIMARY), {"latency_ms": 0, "error_rate": rate}),)
    )
    registry.config.apply(LOCAL_ADMIN, desired, reason=f"simulate error_rate={rate}")


def _arm(client: openai.OpenAI, n: int, stream: bool) -> str:
    messages = [{"role": "user", "content": f"What is {n} + 1?"}]
    if stream:
        with client.chat.completions.with_streaming_response.create(
            model=ALIAS,
            messages=messages,
            stream=True,  # type: ignore[arg-type]
        ) as response:
            chunks = list(response.iter_lines())
            assert any("content" in line for line in chunks)
            return str(response.headers["x-turnout-arm"])
    raw = client.chat.completions.with_raw_response.create(
        model=ALIAS,
        messages=messages,  # type: ignore[arg-type]
    )
    assert raw.parse().choices[0].message.content
    return str(raw.headers["x-turnout-arm"])


@pytest.mark.postgres
def test_the_client_sees_no_error_through_an_outage_and_traffic_returns(
    pg_registry: Registry, e2e_pg_url: str, fleet: Fleet, cli: CliRun
) -> None:
    pg_registry.aliases.set(LOCAL_ADMIN, ALIAS, PRIMARY, fallbacks=[FALLBACK])
    [gateway] = fleet.start_many(e2e_pg_url, 1)
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="unused", max_retries=0)
    assert {_arm(client, n, n % 2 == 0) for n in range(6)} == {"stable"}

    _set_error_rate(pg_registry, 1.0)
    marker = pg_registry.ctx.store.change_marker()
    deadline = time.monotonic() + 10
    while gateway.readyz()[1]["marker"] < marker:
        assert time.monotonic() < deadline, "the outage never reached the gateway"
        time.sleep(0.02)
    arms = [_arm(client, n, n % 2 == 0) for n in range(30)]  # any error raises here
    assert set(arms) == {"fallback"}
    metrics = gateway.http.get(f"{gateway.url}/metrics").text
    assert f'turnout_breaker_state{{version="{PRIMARY}"}} 2.0' in metrics

    _set_error_rate(pg_registry, 0.0)
    deadline = time.monotonic() + 30
    n = 0
    while _arm(client, n, n % 2 == 0) != "stable":
        assert time.monotonic() < deadline, "traffic never came back to the recovered primary"
        n += 1
        time.sleep(0.05)
    # the half-open trials pass: the breaker closes and everything is served by the primary
    assert [_arm(client, n, False) for n in range(5)] == ["stable"] * 5

    def states() -> list[str]:
        report = cli(e2e_pg_url, "--json", "health")
        assert report.returncode == 0, report.stderr
        events = json.loads(report.stdout)["events"]
        return [e["state"] for e in reversed(events) if e["version"] == PRIMARY]

    deadline = time.monotonic() + 10
    while states()[:3] != ["open", "half_open", "closed"]:
        assert time.monotonic() < deadline, f"events: {states()}"
        time.sleep(0.2)
    assert "Traceback" not in gateway.log()
