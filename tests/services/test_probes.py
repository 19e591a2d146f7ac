"""Active probes through the service, on both databases, with the real sim behind the
model caller: one run per version in use per interval, a regression against the
score at promotion recorded once and sent to webhooks, and the return to ok."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import pytest

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.ids import VersionId
from turnout.domain.plan import DesiredState, DesiredVersion
from turnout.eval_file import load_suite
from turnout.services.probes import ProbeRunner
from turnout.services.registry import Registry
from turnout.wiring import build_model_caller

PROBE = Path(__file__).parents[2] / "src" / "turnout" / "data" / "probe.yaml"
V1, V2 = "sim/chat-2025-01-01", "sim/chat-2025-06-01"


class FakeClock(Protocol):
    def advance(self, seconds: float = 1.0) -> object: ...


class Hooks:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, object]]] = []

    def send(self, url: str, body: dict[str, object]) -> None:
        self.sent.append((url, body))


@pytest.fixture
def hooks() -> Hooks:
    return Hooks()


@pytest.fixture
def probes(registry: Registry, hooks: Hooks) -> ProbeRunner:
    registry.versions.add(LOCAL_ADMIN, V1, {"quality": 1.0})
    registry.versions.add(LOCAL_ADMIN, V2, {"quality": 1.0})
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1, fallbacks=[V2])
    with registry.ctx.store.unit_of_work(write=True) as uow:  # the score at promotion
        version = uow.versions.get(VersionId.parse(V1))
        assert version is not None
        uow.versions.update(replace(version, eval_scores={"eval:probe": 1.0}))
    return ProbeRunner(
        registry.ctx,
        load_suite(PROBE),
        lambda: build_model_caller(registry),
        interval=timedelta(minutes=5),
        tolerance=0.2,
        webhooks=hooks,  # type: ignore[arg-type]
        urls=["https://hooks.example/x"],
    )


def _set_quality(registry: Registry, quality: float) -> None:
    desired = DesiredState(versions=(DesiredVersion(VersionId.parse(V1), {"quality": quality}),))
    registry.config.apply(LOCAL_ADMIN, desired, reason="simulate drift")


def test_probes_run_per_version_when_due_and_flag_a_regression_once(
    registry: Registry, probes: ProbeRunner, hooks: Hooks, clock: FakeClock
) -> None:
    assert probes.run_if_due() == []  # healthy on the first look: nothing to report
    with registry.ctx.store.unit_of_work() as uow:
        assert sorted(r.version for r in uow.evals.recent(suite="probe")) == [V1, V2]
    assert probes.run_if_due() == []  # not due yet: nothing ran
    with registry.ctx.store.unit_of_work() as uow:
        assert len(uow.evals.recent(suite="probe")) == 2

    _set_quality(registry, 0.0)  # the model drifts: every answer is now wrong
    clock.advance(301)
    [event] = probes.run_if_due()
    assert (event.version, event.kind, event.state) == (V1, "probe", "regression")
    assert "below 1.000 at promotion" in event.detail
    assert len(hooks.sent) == 1
    assert "regression" in str(hooks.sent[0][1]["text"])
    clock.advance(301)
    assert probes.run_if_due() == []  # still regressed: recorded once
    _set_quality(registry, 1.0)
    clock.advance(301)
    [back] = probes.run_if_due()
    assert back.state == "ok"
    stored = [(e.version, e.state) for e in registry.ctx.store.health_events(V1)]
    assert stored == [(V1, "ok"), (V1, "regression")]  # newest first
    report = registry.health.report()
    assert next(v for v in report.versions if v.version == V1).probe is not None
