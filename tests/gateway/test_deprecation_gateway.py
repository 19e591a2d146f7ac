"""Retirement dates on the real gateway: the ``/metrics`` gauge and the ``/readyz`` detail."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
from tests.conftest import FakeClock
from tests.gateway.conftest import ALIAS, DEADLINE_S, V1, V2, ServeAsgi, sample, wait_until

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.catalog_merge import EntryUpdate
from turnout.services.registry import Registry
from turnout.services.snapshot import RoutingSnapshot
from turnout.services.snapshot_file import snapshot_from_json, snapshot_json
from turnout.wiring import build_server_app

SOON = "sim/old-2025-01-01"
GAUGE = "turnout_version_days_to_retirement"


def test_days_to_retirement_gauge_and_readyz_detail(
    db_url: str, seeded: Registry, snapshot_path: Path, serve_asgi: ServeAsgi, clock: FakeClock
) -> None:
    # the fake clock says 2026-01-15: SOON retires in 20 days and is prod-chat's fallback
    seeded.versions.add(LOCAL_ADMIN, SOON, retirement_date=date(2026, 2, 4))
    seeded.aliases.set(LOCAL_ADMIN, ALIAS, V1, [SOON])
    url = serve_asgi(build_server_app(db_url, snapshot_path=snapshot_path, clock=clock))
    ready = httpx.get(f"{url}/readyz", timeout=DEADLINE_S)
    assert ready.status_code == 200
    assert ready.json()["deprecations"] == [
        {
            "version": SOON,
            "retires": "2026-02-04",
            "days_left": 20,
            "retired": False,
            "used_by": [{"alias": ALIAS, "role": "fallback"}],
            "replacement": None,
            "source": "version",
        }
    ]
    assert sample(url, GAUGE, version=SOON) == 20
    assert sample(url, GAUGE, version=V1) is None  # no known date: no series
    # a catalog update dates V2: the snapshot carries it, the gauge follows
    seeded.catalog.update(
        LOCAL_ADMIN,
        [EntryUpdate("sim", "chat-2025-06-01", {"retires": date(2026, 4, 15)}, date(2026, 1, 15))],
        "test",
    )
    wait_until(lambda: sample(url, GAUGE, version=V2) == 90, "the gauge of the dated version")
    clock.advance(86400)
    assert sample(url, GAUGE, version=SOON) == 19


def test_old_snapshot_files_without_dates_still_load(seeded: Registry) -> None:
    from turnout.services.snapshot import load_snapshot

    snapshot = load_snapshot(seeded.ctx.store, seeded.ctx.clock)
    data = snapshot_json(snapshot)
    for entry in data["versions"].values():
        entry.pop("retires", None)
    loaded: RoutingSnapshot = snapshot_from_json(data)
    assert set(loaded.versions) == set(snapshot.versions)
    assert all(v.retires is None for v in loaded.versions.values())
