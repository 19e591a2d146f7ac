"""Deprecation findings over the registry, and webhook notices sent exactly once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pytest
from tests.conftest import FakeClock
from tests.services.conftest import OpenRegistry

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.aliases import AliasTarget
from turnout.domain.deprecations import Use, UseRole
from turnout.domain.ids import VersionId
from turnout.domain.plan import DesiredAlias, DesiredState
from turnout.errors import InvalidInput
from turnout.services.deprecations import DeprecationNotifier
from turnout.services.registry import Registry

URL = "https://hooks.example/deprecations"


class FakeSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Mapping[str, object]]] = []

    def send(self, url: str, body: Mapping[str, object]) -> None:
        self.sent.append((url, body))


@pytest.fixture
def seeded(registry: Registry) -> Registry:
    """prod-chat: primary retiring in 45 days, a fallback in 20, a shadow in 200."""
    registry.versions.add(LOCAL_ADMIN, "sim/chat-001", retirement_date=date(2026, 3, 1))
    registry.versions.add(LOCAL_ADMIN, "sim/chat-002", retirement_date=date(2026, 2, 4))
    registry.versions.add(LOCAL_ADMIN, "sim/chat-003", retirement_date=date(2026, 8, 3))
    registry.versions.add(LOCAL_ADMIN, "sim/chat-004")
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", "sim/chat-001", ["sim/chat-002"])
    registry.shadow.start(LOCAL_ADMIN, "prod-chat", "sim/chat-003", sample=0.5)
    registry.aliases.set(LOCAL_ADMIN, "other", "sim/chat-004", ["sim/chat-001"])
    return registry


def test_findings_name_every_use_with_days_left(seeded: Registry) -> None:
    found = seeded.deprecations.findings(LOCAL_ADMIN)
    assert [(f.version, f.days_left) for f in found] == [("sim/chat-002", 20), ("sim/chat-001", 45)]
    assert found[1].uses == (Use("other", UseRole.FALLBACK), Use("prod-chat", UseRole.PRIMARY))
    wide = seeded.deprecations.findings(LOCAL_ADMIN, 365)
    assert ("sim/chat-003", (Use("prod-chat", UseRole.SHADOW),)) in [
        (f.version, f.uses) for f in wide
    ]
    with pytest.raises(InvalidInput):
        seeded.deprecations.findings(LOCAL_ADMIN, -1)


def test_findings_for_a_config_file_before_it_is_applied(seeded: Registry) -> None:
    desired = DesiredState(
        aliases=(DesiredAlias("prod-chat", AliasTarget(VersionId.parse("sim/chat-004"))),)
    )
    found = seeded.deprecations.for_desired(LOCAL_ADMIN, desired)
    # prod-chat no longer uses 001 or 002; 'other' still falls back to 001
    assert [(f.version, f.uses) for f in found] == [
        ("sim/chat-001", (Use("other", UseRole.FALLBACK),))
    ]


def test_two_controllers_send_each_notice_once(
    seeded: Registry, open_registry: OpenRegistry, clock: FakeClock
) -> None:
    sender = FakeSender()
    first = DeprecationNotifier(seeded.deprecations, seeded.ctx, [URL], sender)
    second_registry = open_registry()
    second = DeprecationNotifier(second_registry.deprecations, second_registry.ctx, [URL], sender)
    assert first.run_if_due() == 2  # 002 at 20 days (the 30-day notice), 001 at 45 (90)
    assert second.run_if_due() == 0  # another replica: already claimed
    texts = sorted(str(body["text"]) for _, body in sender.sent)
    assert len(texts) == 2
    assert "sim/chat-001" in texts[0]
    assert "sim/chat-002" in texts[1]
    thresholds = sorted(body["turnout"]["threshold_days"] for _, body in sender.sent)  # type: ignore[index]
    assert thresholds == [30, 90]
    clock.advance(30 * 60)
    assert first.run_if_due() == 0  # not an hour yet: no look at all
    clock.advance(14 * 86400)  # 002 now 6 days out: the 7-day notice, once
    assert first.run_if_due() == 1
    restarted = DeprecationNotifier(seeded.deprecations, seeded.ctx, [URL], sender)
    assert restarted.run_if_due() == 0
    assert len(sender.sent) == 3
    with seeded.ctx.store.unit_of_work() as uow:
        assert len(uow.catalog.notices()) == 4  # 002: 90, 30, 7; 001: 90


def test_no_urls_means_no_look(seeded: Registry) -> None:
    sender = FakeSender()
    assert DeprecationNotifier(seeded.deprecations, seeded.ctx, [], sender).run_if_due() == 0
    with seeded.ctx.store.unit_of_work() as uow:
        assert uow.catalog.notices() == []
