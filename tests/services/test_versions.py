"""Registering versions: the pinning rule, providers, catalog dates, the record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol

import pytest

from turnout.domain.access import LOCAL_ADMIN, Principal, Role
from turnout.domain.providers import ProviderConfig, ProviderKind
from turnout.domain.versions import KnownIssue, VersionStatus
from turnout.errors import Conflict, FloatingVersionError, InvalidInput, NotFound, PermissionDenied
from turnout.services.registry import Registry
from turnout.store import SqlStore


class FakeClock(Protocol):
    """The settable clock of ``tests/conftest.py``."""

    now: datetime

    def __call__(self) -> datetime: ...

    def advance(self, seconds: float = 1.0) -> datetime: ...


OPERATOR = Principal("olga", Role.OPERATOR)
VIEWER = Principal("vic", Role.VIEWER)


def test_add_pinned_version_records_who_when_and_lineage(
    registry: Registry, clock: FakeClock
) -> None:
    added = registry.versions.add(
        OPERATOR,
        "openai/gpt-4o-2024-11-20",
        params={"temperature": 0.2, "max_tokens": 800, "json": True, "stop": None},
        prompt_version="support-prompt@14",
        dataset_version="evals/2026-01",
    )
    assert added.introduced_at == clock()
    assert added.introduced_by == "olga"
    assert (added.floating_allowed, added.warnings, added.promoted_at) == (False, (), None)
    assert added.status is VersionStatus.ACTIVE
    assert registry.versions.get("openai/gpt-4o-2024-11-20") == added
    assert registry.versions.all() == [added]


def test_floating_id_is_refused_with_pinned_suggestions(registry: Registry) -> None:
    with pytest.raises(FloatingVersionError) as caught:
        registry.versions.add(LOCAL_ADMIN, "openai/gpt-4o")
    error = caught.value
    assert error.version_id == "openai/gpt-4o"
    assert error.suggestions == (
        "openai/gpt-4o-2024-11-20",
        "openai/gpt-4o-2024-08-06",
        "openai/gpt-4o-2024-05-13",
    )
    assert "openai/gpt-4o-2024-11-20" in error.message
    assert registry.versions.all() == []
    assert registry.audit.verify(LOCAL_ADMIN) == (0, None)


def test_other_floating_ids_are_refused(registry: Registry) -> None:
    for vid in (
        "openai/latest",
        "anthropic/claude-3-5-sonnet-latest",
        "mistral/mistral-large-latest",
        "sim/some-model",
    ):
        with pytest.raises(FloatingVersionError):
            registry.versions.add(LOCAL_ADMIN, vid)
    assert registry.versions.all() == []


def test_allow_floating_registers_with_a_warning_in_the_record(
    registry: Registry, clock: FakeClock
) -> None:
    added = registry.versions.add(LOCAL_ADMIN, "openai/gpt-4o", allow_floating=True)
    assert added.floating_allowed is True
    assert len(added.warnings) == 1
    assert added.warnings[0].startswith(
        f"floating id allowed by local-admin on {clock().date().isoformat()}"
    )
    stored = registry.versions.get("openai/gpt-4o")
    assert stored.warnings == added.warnings
    assert stored.floating_allowed is True
    assert (stored.deprecation_date, stored.retirement_date) == (
        date(2026, 10, 14),
        date(2027, 1, 14),
    )
    (entry,) = registry.audit.entries(LOCAL_ADMIN)
    assert entry.detail["floating_allowed"] is True


def test_unknown_provider_is_refused_until_declared(registry: Registry, store: SqlStore) -> None:
    with pytest.raises(InvalidInput, match="unknown provider 'acme'") as caught:
        registry.versions.add(LOCAL_ADMIN, "acme/chat-2025-06-01")
    assert "openai" in caught.value.message  # the known providers are listed
    with store.unit_of_work(write=True) as uow:
        uow.providers.put(ProviderConfig("acme", ProviderKind.OPENAI, "http://127.0.0.1:9/v1"))
    added = registry.versions.add(LOCAL_ADMIN, "acme/chat-2025-06-01")
    assert added.provider == "acme"


def test_catalog_fills_lifecycle_dates(registry: Registry) -> None:
    added = registry.versions.add(LOCAL_ADMIN, "openai/gpt-4o-2024-05-13")
    assert added.deprecation_date == date(2026, 4, 22)
    assert added.retirement_date == date(2026, 10, 23)
    stored = registry.versions.get("openai/gpt-4o-2024-05-13")
    assert (stored.deprecation_date, stored.retirement_date) == (
        date(2026, 4, 22),
        date(2026, 10, 23),
    )
    assert stored.status_on(date(2026, 1, 15)) is VersionStatus.ACTIVE
    assert stored.status_on(date(2026, 5, 1)) is VersionStatus.DEPRECATED
    assert stored.status_on(date(2026, 10, 23)) is VersionStatus.RETIRED


def test_explicit_dates_win_over_the_catalog(registry: Registry) -> None:
    added = registry.versions.add(
        LOCAL_ADMIN, "openai/gpt-4o-2024-05-13", deprecation_date=date(2026, 2, 1)
    )
    assert added.deprecation_date == date(2026, 2, 1)
    assert added.retirement_date == date(2026, 10, 23)


def test_versions_unknown_to_the_catalog_have_no_dates(registry: Registry) -> None:
    added = registry.versions.add(LOCAL_ADMIN, "sim/chat-001")
    assert (added.deprecation_date, added.retirement_date) == (None, None)


def test_catalog_retired_version_is_refused_naming_the_replacement(registry: Registry) -> None:
    with pytest.raises(InvalidInput) as caught:
        registry.versions.add(LOCAL_ADMIN, "openai/gpt-4-32k-0613")
    assert "retired on 2025-06-06" in caught.value.message
    assert "recommends gpt-4o" in caught.value.message
    assert registry.versions.all() == []


def test_a_version_retires_when_the_clock_passes_its_date(
    registry: Registry, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 10, 23, 0, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput, match=r"recommends gpt-5\.6-sol"):
        registry.versions.add(LOCAL_ADMIN, "openai/gpt-4o-2024-05-13")
    clock.now = datetime(2026, 10, 22, 23, 59, tzinfo=UTC)
    assert registry.versions.add(LOCAL_ADMIN, "openai/gpt-4o-2024-05-13").retirement_date


def test_explicit_past_retirement_date_is_refused(registry: Registry) -> None:
    with pytest.raises(InvalidInput, match="retired on 2025-01-01"):
        registry.versions.add(LOCAL_ADMIN, "sim/chat-001", retirement_date=date(2025, 1, 1))


def test_duplicate_add_conflicts_and_keeps_the_first_record(registry: Registry) -> None:
    first = registry.versions.add(LOCAL_ADMIN, "sim/chat-001", params={"latency_ms": 5})
    with pytest.raises(Conflict):
        registry.versions.add(OPERATOR, "sim/chat-001", params={"latency_ms": 50})
    assert registry.versions.get("sim/chat-001") == first
    assert registry.audit.verify(LOCAL_ADMIN) == (1, None)


def test_malformed_input_is_refused(registry: Registry) -> None:
    with pytest.raises(InvalidInput):
        registry.versions.add(LOCAL_ADMIN, "no-slash")
    with pytest.raises(InvalidInput):
        registry.versions.add(LOCAL_ADMIN, "OpenAI/gpt-4o-2024-11-20")
    with pytest.raises(InvalidInput):
        registry.versions.add(LOCAL_ADMIN, "sim/chat-001", prompt_version="has space")
    with pytest.raises(InvalidInput):
        registry.versions.add(LOCAL_ADMIN, "sim/chat-001", dataset_version="-leading-dash")
    with pytest.raises(InvalidInput, match="latency_ms"):
        registry.versions.add(LOCAL_ADMIN, "sim/chat-001", params={"latency_ms": -5})
    assert registry.versions.all() == []


def test_viewer_cannot_add_or_annotate(registry: Registry) -> None:
    with pytest.raises(PermissionDenied):
        registry.versions.add(VIEWER, "sim/chat-001")
    registry.versions.add(OPERATOR, "sim/chat-001")
    with pytest.raises(PermissionDenied):
        registry.versions.add_known_issue(VIEWER, "sim/chat-001", "slow")


def test_get_unknown_version_is_not_found(registry: Registry) -> None:
    with pytest.raises(NotFound, match="not registered"):
        registry.versions.get("sim/chat-404")


def test_known_issues_are_appended_in_order(registry: Registry, clock: FakeClock) -> None:
    registry.versions.add(LOCAL_ADMIN, "sim/chat-001")
    t1 = clock.advance(60)
    registry.versions.add_known_issue(OPERATOR, "sim/chat-001", "  truncates long tables  ")
    t2 = clock.advance(60)
    updated = registry.versions.add_known_issue(LOCAL_ADMIN, "sim/chat-001", "ignores stop words")
    expected = (
        KnownIssue("truncates long tables", t1, "olga"),
        KnownIssue("ignores stop words", t2, "local-admin"),
    )
    assert updated.known_issues == expected
    assert registry.versions.get("sim/chat-001").known_issues == expected
    actions = [e.action for e in registry.audit.entries(LOCAL_ADMIN, subject="sim/chat-001")]
    assert actions == ["version.known_issue", "version.known_issue", "version.add"]


def test_known_issue_needs_text_and_a_registered_version(registry: Registry) -> None:
    registry.versions.add(LOCAL_ADMIN, "sim/chat-001")
    with pytest.raises(InvalidInput):
        registry.versions.add_known_issue(LOCAL_ADMIN, "sim/chat-001", "   ")
    with pytest.raises(NotFound):
        registry.versions.add_known_issue(LOCAL_ADMIN, "sim/chat-404", "slow")
    assert registry.versions.get("sim/chat-001").known_issues == ()
