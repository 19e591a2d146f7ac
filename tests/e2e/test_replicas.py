"""Gateway replicas as operators run them: several ``turnout serve`` processes, one registry.

Every replica must serve a flip (``turnout alias set``) and a rollback within a
generous deadline; keep serving its last snapshot while PostgreSQL is cut off
(``/readyz`` says degraded) or silently unresponsive, and recover by itself;
start from its snapshot file when the store is down at boot; follow a shared
SQLite file by polling; and, with ``--workers``, in every worker. Nothing here
asserts a latency: the deadlines only bound a failing test (the numbers are
``bench/bench_propagation.py``'s job).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy import make_url

from turnout.domain.access import LOCAL_ADMIN
from turnout.services.registry import Registry

if TYPE_CHECKING:  # fixtures' types; conftest is never imported by test modules
    from conftest import Fleet, Gateway, TcpProxy

ALIAS = "prod-chat"
V1, V2 = "sim/chat-2025-01-01", "sim/chat-2025-02-01"
REPLICAS = 3
DEADLINE_S = 10.0

CliRun = Callable[..., subprocess.CompletedProcess[str]]

pytestmark = pytest.mark.timeout(60)


def eventually(condition: Callable[[], bool], deadline_s: float = DEADLINE_S) -> bool:
    """Poll ``condition`` until it holds or the deadline passes (no timing is asserted)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def all_serve(gateways: list[Gateway], version: str) -> bool:
    return all(gateway.served() == version for gateway in gateways)


def served_by(gateways: list[Gateway]) -> dict[str, str]:
    return {gateway.name: gateway.served() for gateway in gateways}


def statuses(gateways: list[Gateway]) -> dict[str, str]:
    return {gateway.name: gateway.status() for gateway in gateways}


def assert_clean_stop(fleet: Fleet, gateway: Gateway) -> None:
    """SIGTERM ends the process by itself (uvicorn re-raises the signal after shutdown)."""
    assert fleet.stop(gateway) in (0, -15), gateway.log()
    assert "Traceback" not in gateway.log(), gateway.log()


# --- PostgreSQL: LISTEN/NOTIFY -------------------------------------------------------------


@pytest.mark.postgres
def test_a_flip_and_a_rollback_reach_every_replica(
    pg_registry: Registry, e2e_pg_url: str, fleet: Fleet, cli: CliRun
) -> None:
    # Trust auth ignores the password: it is there to prove no log line shows it.
    with_password = make_url(e2e_pg_url).set(password="e2e-secret").render_as_string(False)
    gateways = fleet.start_many(with_password, REPLICAS)
    assert served_by(gateways) == {g.name: V1 for g in gateways}
    for gateway in gateways:
        code, ready = gateway.readyz()
        assert code == 200
        assert (ready["status"], ready["source"]) == ("ok", "store")

    cli(e2e_pg_url, "alias", "set", ALIAS, V2, "--reason", "e2e flip")
    assert eventually(lambda: all_serve(gateways, V2)), served_by(gateways)
    markers = {gateway.readyz()[1]["marker"] for gateway in gateways}
    assert len(markers) == 1  # every replica holds the same snapshot

    cli(e2e_pg_url, "alias", "rollback", ALIAS, "--reason", "e2e rollback")
    assert eventually(lambda: all_serve(gateways, V1)), served_by(gateways)
    assert str(pg_registry.aliases.get(ALIAS).target.version) == V1

    for gateway in gateways:
        assert_clean_stop(fleet, gateway)
        assert "turnout serving postgresql+psycopg://postgres:***@" in gateway.log()
        assert "e2e-secret" not in gateway.log()


@pytest.mark.postgres
def test_a_store_outage_keeps_every_replica_serving_and_they_recover_alone(
    pg_registry: Registry, e2e_pg_url: str, pg_proxy: TcpProxy, fleet: Fleet
) -> None:
    via_proxy = pg_proxy.url_for(e2e_pg_url)
    gateways = fleet.start_many(via_proxy, REPLICAS)
    assert served_by(gateways) == {g.name: V1 for g in gateways}
    before = {g.name: g.readyz()[1]["marker"] for g in gateways}

    pg_proxy.stop()  # every gateway connection to PostgreSQL is reset; none can reconnect
    assert eventually(lambda: set(statuses(gateways).values()) == {"degraded"}), statuses(gateways)
    pg_registry.aliases.set(LOCAL_ADMIN, ALIAS, V2)  # written while the replicas are cut off
    for _ in range(3):
        assert served_by(gateways) == {g.name: V1 for g in gateways}  # fail-static
    for gateway in gateways:
        code, ready = gateway.readyz()
        assert code == 200  # still ready: it has a snapshot to serve
        assert ready["ready"] is True
        assert ready["source"] == "store"
        assert ready["marker"] == before[gateway.name]
        assert "unreachable" in ready["degraded"] or "lost" in ready["degraded"]

    pg_proxy.start()
    assert eventually(lambda: set(statuses(gateways).values()) == {"ok"}), statuses(gateways)
    assert eventually(lambda: all_serve(gateways, V2)), served_by(gateways)
    for gateway in gateways:
        ready = gateway.readyz()[1]
        assert ready["degraded"] is None
        assert ready["marker"] > before[gateway.name]
        assert ready["request_log"]["last_error"] is None  # the queued records got written

    pg_registry.aliases.set(LOCAL_ADMIN, ALIAS, V1)  # and LISTEN was re-subscribed
    assert eventually(lambda: all_serve(gateways, V1)), served_by(gateways)


@pytest.mark.postgres
def test_a_silent_partition_does_not_touch_the_hot_path(
    pg_registry: Registry, e2e_pg_url: str, pg_proxy: TcpProxy, fleet: Fleet
) -> None:
    """Packets black-holed, connections left open: queries hang instead of failing.

    Requests never wait on the store, so serving goes on, and the snapshot's age
    (confirmed against the store every second when healthy) keeps growing: the
    signal to alert on. (``status`` is not asserted: today it stays "ok", because a
    refresh that hangs is neither timed out nor counted as a failure; reported.)
    """
    gateway = fleet.start(pg_proxy.url_for(e2e_pg_url))
    assert gateway.served() == V1
    pg_proxy.blackhole()
    try:
        pg_registry.aliases.set(LOCAL_ADMIN, ALIAS, V2)
        assert eventually(lambda: gateway.readyz()[1]["snapshot_age_s"] > 3.0)
        for _ in range(3):
            assert gateway.served() == V1
    finally:
        pg_proxy.stop()  # reset the hung connections: they fail now, and shut down cleanly
    pg_proxy.start()
    assert eventually(lambda: gateway.served() == V2 and gateway.status() == "ok")
    assert gateway.readyz()[1]["snapshot_age_s"] < 3.0


@pytest.mark.postgres
def test_a_cold_start_with_the_store_down_serves_the_snapshot_file(
    pg_registry: Registry, e2e_pg_url: str, pg_proxy: TcpProxy, fleet: Fleet
) -> None:
    via_proxy = pg_proxy.url_for(e2e_pg_url)
    first = fleet.start(via_proxy)  # an earlier run, which leaves its snapshot file behind
    assert first.served() == V1
    seeded = first.readyz()[1]["marker"]
    assert_clean_stop(fleet, first)
    assert json.loads(first.snapshot_file.read_text())["marker"] == seeded

    pg_proxy.stop()
    refused = subprocess.run(  # no store and no snapshot file: nothing to serve, refuse to start
        [*fleet.serve_args(first), "--port", "1"],
        env=fleet.env_for(first.snapshot_file.parent / "missing.json"),
        cwd=first.snapshot_file.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "unreachable" in refused.stderr

    again = fleet.start(via_proxy, snapshot_file=first.snapshot_file)
    code, ready = again.readyz()
    assert code == 200
    assert (ready["status"], ready["source"], ready["marker"]) == ("degraded", "file", seeded)
    assert again.served() == V1
    assert "serving the last snapshot" in again.log()

    pg_registry.aliases.set(LOCAL_ADMIN, ALIAS, V2)
    assert again.served() == V1  # the store is still out of reach
    pg_proxy.start()
    assert eventually(lambda: again.readyz()[1]["source"] == "store")
    assert eventually(lambda: again.status() == "ok"), again.readyz()
    assert again.served() == V2
    assert json.loads(again.snapshot_file.read_text())["marker"] > seeded
    assert_clean_stop(fleet, again)


# --- SQLite: the change-marker poll ------------------------------------------------------------


def test_on_one_sqlite_file_a_flip_reaches_both_processes(
    sqlite_registry: Registry, sqlite_url: str, fleet: Fleet, cli: CliRun
) -> None:
    gateways = fleet.start_many(sqlite_url, 2)
    assert served_by(gateways) == {g.name: V1 for g in gateways}

    cli(sqlite_url, "alias", "set", ALIAS, V2)
    assert eventually(lambda: all_serve(gateways, V2)), served_by(gateways)
    cli(sqlite_url, "alias", "rollback", ALIAS)
    assert eventually(lambda: all_serve(gateways, V1)), served_by(gateways)
    for gateway in gateways:
        marker = gateway.readyz()[1]["marker"]
        assert gateway.readyz()[1]["source"] == "store"

        def saved(gateway: Gateway = gateway, marker: int = marker) -> bool:
            return bool(json.loads(gateway.snapshot_file.read_text())["marker"] == marker)

        assert eventually(saved)  # each process keeps its own last good snapshot
        assert_clean_stop(fleet, gateway)


# --- one process, several workers ----------------------------------------------------------------


@pytest.mark.postgres
def test_a_multi_worker_gateway_follows_a_flip_on_every_connection(
    pg_registry: Registry, e2e_pg_url: str, fleet: Fleet
) -> None:
    gateway = fleet.start(e2e_pg_url, options=("--workers", "2"))
    no_reuse = httpx.Client(timeout=5.0, limits=httpx.Limits(max_keepalive_connections=0))

    def fresh_connections_serve(version: str, requests: int = 20) -> bool:
        # A new connection per request, so the kernel spreads them over the workers;
        # a stale worker would answer some of them with the old version.
        for _ in range(requests):
            response = no_reuse.post(
                f"{gateway.url}/v1/chat/completions",
                json={"model": ALIAS, "messages": [{"role": "user", "content": "ping"}]},
            )
            if response.headers.get("x-turnout-version") != version:
                return False
        return True

    with no_reuse:
        assert eventually(lambda: fresh_connections_serve(V1))  # every worker has loaded
        pg_registry.aliases.set(LOCAL_ADMIN, ALIAS, V2)
        assert eventually(lambda: fresh_connections_serve(V2)), gateway.log()
    assert_clean_stop(fleet, gateway)


def _requests_served(metrics_text: str) -> float:
    """The sum of ``turnout_requests_total`` over every series of one scrape."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics_text.splitlines()
        if line.startswith("turnout_requests_total{")
    )


@pytest.mark.postgres
def test_every_scrape_of_a_multi_worker_gateway_counts_every_worker(
    pg_registry: Registry, e2e_pg_url: str, fleet: Fleet
) -> None:
    gateway = fleet.start(e2e_pg_url, options=("--workers", "2"))
    no_reuse = httpx.Client(timeout=5.0, limits=httpx.Limits(max_keepalive_connections=0))
    served = 40
    with no_reuse:
        for _ in range(served):  # fresh connections: the kernel spreads them over the workers
            answer = no_reuse.post(
                f"{gateway.url}/v1/chat/completions",
                json={"model": ALIAS, "messages": [{"role": "user", "content": "ping"}]},
            )
            assert answer.status_code == 200, answer.text
        scrapes = [no_reuse.get(f"{gateway.url}/metrics").text for _ in range(8)]
    # whichever worker answers the scrape, it reports both workers' requests
    assert [_requests_served(text) for text in scrapes] == [served] * len(scrapes)
    for text in scrapes:
        markers = [line for line in text.splitlines() if line.startswith("turnout_snapshot_marker")]
        assert len(markers) == 1, markers  # one combined gauge, not one per worker
    assert_clean_stop(fleet, gateway)
