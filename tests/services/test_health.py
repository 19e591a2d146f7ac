"""``turnout health`` through the service, on both databases: traffic per version from
the request log, each replica's newest breaker state, and weak fallbacks named."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from tests.support.evals import store_eval_run

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.health import HealthEvent
from turnout.domain.promotion import PromotionPolicy
from turnout.domain.requests import RequestRecord
from turnout.services.registry import Registry

V1, V2, V3 = "sim/chat-001", "sim/chat-002", "sim/chat-003"


@pytest.fixture(autouse=True)
def _aliases(registry: Registry, sim_versions: tuple[str, ...]) -> None:
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1, fallbacks=[V2, V3])


def _record(registry: Registry, version: str, status: int, latency: float, i: int) -> RequestRecord:
    return RequestRecord(
        f"req_{version[-3:]}_{i:04d}",
        registry.ctx.now() - timedelta(minutes=1),
        "prod-chat",
        version,
        "stable",
        None,
        status,
        None if status < 400 else "provider_error",
        latency,
        None,
        10,
        5,
        None,
        False,
    )


def test_traffic_breakers_and_fallbacks(registry: Registry) -> None:
    store = registry.ctx.store
    records = [_record(registry, V1, 200, float(i + 1), i) for i in range(100)]
    records += [_record(registry, V1, 502, 5.0, 100 + i) for i in range(25)]
    records += [_record(registry, V2, 499, 1.0, 200)]  # a client disconnect is no error
    store.log_requests(records)
    now = registry.ctx.now()
    store.log_health_events(
        [
            HealthEvent(now - timedelta(seconds=30), V1, "breaker", "open", "5 failures", "gw-a"),
            HealthEvent(now - timedelta(seconds=20), V1, "breaker", "open", "5 failures", "gw-b"),
            HealthEvent(now - timedelta(seconds=10), V1, "breaker", "closed", "trials ok", "gw-a"),
        ]
    )
    report = registry.health.report()
    by_version = {use.version: use for use in report.versions}
    assert set(by_version) == {V1, V2, V3}
    primary = by_version[V1]
    assert primary.uses == ("prod-chat (primary)",)
    assert (primary.traffic.requests, primary.traffic.errors) == (125, 25)
    assert primary.traffic.error_rate == pytest.approx(0.2)
    assert primary.traffic.p50_ms == 50.0  # of the 100 successes, nearest rank
    assert primary.traffic.p95_ms == 95.0
    assert {(e.source, e.state) for e in primary.breakers} == {("gw-a", "closed"), ("gw-b", "open")}
    assert primary.open_somewhere
    assert by_version[V2].traffic.errors == 0
    assert by_version[V3].uses == ("prod-chat (fallback 2)",)
    assert by_version[V3].traffic.requests == 0
    assert not report.healthy
    assert report.events[0].state == "closed"  # newest first


def test_weak_fallbacks_are_named(registry: Registry, clock: object) -> None:
    assert registry.health.report().fallback_problems == ()
    registry.aliases.set_promotion(LOCAL_ADMIN, "prod-chat", PromotionPolicy(("qa",)), "guard")
    store_eval_run(registry, V2, 0.9)
    problems = registry.health.report().fallback_problems
    assert [(p.fallback, "eval run of suite 'qa'" in p.problem) for p in problems] == [(V3, True)]

    with registry.ctx.store.unit_of_work(write=True) as uow:
        from dataclasses import replace

        from turnout.domain.ids import VersionId

        version = uow.versions.get(VersionId.parse(V2))
        assert version is not None
        soon = registry.ctx.now().date() + timedelta(days=10)
        uow.versions.update(replace(version, retirement_date=soon))
    problems = registry.health.report().fallback_problems
    assert any(p.fallback == V2 and "retires in 10 days" in p.problem for p in problems)
    assert isinstance(soon, date)
