"""Aliases through the service: set, flip, rollback, protection, promotion, resolve_at."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Protocol

import pytest

from turnout.domain.access import LOCAL_ADMIN, Principal, Role
from turnout.domain.aliases import AliasAction, AliasTarget
from turnout.domain.ids import VersionId
from turnout.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from turnout.services.registry import Registry
from turnout.store import SqlStore


class FakeClock(Protocol):
    """The settable clock of ``tests/conftest.py``."""

    now: datetime

    def __call__(self) -> datetime: ...

    def advance(self, seconds: float = 1.0) -> datetime: ...


OPERATOR = Principal("olga", Role.OPERATOR)
DEPLOYER = Principal("dee", Role.DEPLOYER)
V1, V2, V3 = "sim/chat-001", "sim/chat-002", "sim/chat-003"


def _target(version: str, *fallbacks: str) -> AliasTarget:
    return AliasTarget(VersionId.parse(version), tuple(VersionId.parse(f) for f in fallbacks))


def _served(registry: Registry, name: str = "prod-chat") -> AliasTarget:
    return registry.aliases.get(name).target


@pytest.fixture(autouse=True)
def _versions(sim_versions: tuple[str, ...]) -> None:
    assert sim_versions == (V1, V2, V3)


# --- set and flip ------------------------------------------------------------------------


def test_set_creates_then_flips_with_full_history(registry: Registry, clock: FakeClock) -> None:
    created = registry.aliases.set(OPERATOR, "prod-chat", V1, reason="launch")
    t1 = clock.advance(30)
    flipped = registry.aliases.set(LOCAL_ADMIN, "prod-chat", V2)
    assert (created.changed, flipped.changed) == (True, True)

    history = registry.aliases.history("prod-chat")
    assert history == [created.revision, flipped.revision]
    first, second = history
    assert (first.revision, first.action, first.previous) == (1, AliasAction.CREATE, None)
    assert (first.target, first.actor, first.reason) == (_target(V1), "olga", "launch")
    assert (second.revision, second.action) == (2, AliasAction.SET)
    assert (second.target, second.previous, second.created_at) == (_target(V2), _target(V1), t1)

    alias = registry.aliases.get("prod-chat")
    assert (alias.revision, alias.target, alias.updated_at, alias.updated_by) == (
        2,
        _target(V2),
        t1,
        "local-admin",
    )
    assert [a.name for a in registry.aliases.all()] == ["prod-chat"]


def test_unknown_alias_reads_are_not_found(registry: Registry) -> None:
    for read in (registry.aliases.get, registry.aliases.history, registry.aliases.resolve_at):
        with pytest.raises(NotFound):
            read("nope")


def test_illegal_alias_names_are_refused(registry: Registry) -> None:
    for name in ("Prod", "latest", "v2", "-x", "a" * 64, "", "has space"):
        with pytest.raises(InvalidInput):
            registry.aliases.set(LOCAL_ADMIN, name, V1)
    assert registry.aliases.all() == []


def test_target_versions_must_be_registered(registry: Registry) -> None:
    with pytest.raises(NotFound, match="sim/chat-404 is not registered"):
        registry.aliases.set(LOCAL_ADMIN, "prod-chat", "sim/chat-404")
    with pytest.raises(NotFound, match="sim/chat-404"):
        registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1, fallbacks=["sim/chat-404"])
    assert registry.aliases.all() == []


def test_a_retired_version_cannot_become_a_target(registry: Registry, clock: FakeClock) -> None:
    registry.versions.add(LOCAL_ADMIN, "openai/gpt-4o-2024-05-13")
    clock.now = datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="retired"):
        registry.aliases.set(LOCAL_ADMIN, "prod-chat", "openai/gpt-4o-2024-05-13")


def test_viewer_cannot_set(registry: Registry) -> None:
    with pytest.raises(PermissionDenied):
        registry.aliases.set(Principal("vic", Role.VIEWER), "prod-chat", V1)


# --- promotion ---------------------------------------------------------------------------


def test_promoted_at_is_stamped_once_at_first_serve(registry: Registry, clock: FakeClock) -> None:
    assert registry.versions.get(V1).promoted_at is None
    t0 = clock()
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1)
    t1 = clock.advance(60)
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V2)
    clock.advance(60)
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1)
    clock.advance(60)
    registry.aliases.set(LOCAL_ADMIN, "batch", V1)
    clock.advance(60)
    registry.aliases.rollback(LOCAL_ADMIN, "prod-chat")
    assert registry.versions.get(V1).promoted_at == t0
    assert registry.versions.get(V2).promoted_at == t1
    assert registry.versions.get(V3).promoted_at is None


def test_a_refused_write_stamps_nothing(registry: Registry) -> None:
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1)
    with pytest.raises(Conflict):
        registry.aliases.set(LOCAL_ADMIN, "prod-chat", V2, expected_revision=7)
    assert registry.versions.get(V2).promoted_at is None


# --- fallbacks and no-ops ----------------------------------------------------------------


def test_fallbacks_are_kept_replaced_or_cleared(registry: Registry) -> None:
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1, fallbacks=[V2, V3])
    assert _served(registry) == _target(V1, V2, V3)
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V3)  # None keeps the chain
    assert _served(registry) == _target(V3, V2)  # ...minus the new primary
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V3, fallbacks=[V1])
    assert _served(registry) == _target(V3, V1)
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V3, fallbacks=[])
    assert _served(registry) == _target(V3)
    assert [r.revision for r in registry.aliases.history("prod-chat")] == [1, 2, 3, 4]


def test_fallback_chain_cannot_repeat_or_include_the_primary(registry: Registry) -> None:
    with pytest.raises(InvalidInput):
        registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1, fallbacks=[V1])
    with pytest.raises(InvalidInput):
        registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1, fallbacks=[V2, V2])


def test_unchanged_set_is_a_no_op(
    registry: Registry, store: SqlStore, audit_count: Callable[[], int], clock: FakeClock
) -> None:
    first = registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1, fallbacks=[V2])
    entries, marker = audit_count(), store.change_marker()
    clock.advance(60)
    again = registry.aliases.set(OPERATOR, "prod-chat", V1, reason="same again")
    assert again.changed is False
    assert again.revision == first.revision
    again_explicit = registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1, fallbacks=[V2])
    assert again_explicit.changed is False
    assert len(registry.aliases.history("prod-chat")) == 1
    assert registry.aliases.get("prod-chat").updated_by == "local-admin"
    assert (audit_count(), store.change_marker()) == (entries, marker)


# --- compare-and-set ---------------------------------------------------------------------


def test_expected_revision_guards_the_write(registry: Registry) -> None:
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1, expected_revision=0)
    with pytest.raises(Conflict, match="revision 1, not 0"):
        registry.aliases.set(LOCAL_ADMIN, "prod-chat", V2, expected_revision=0)
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V2, expected_revision=1)
    with pytest.raises(Conflict):
        registry.aliases.rollback(LOCAL_ADMIN, "prod-chat", expected_revision=1)
    with pytest.raises(Conflict):
        registry.aliases.set(LOCAL_ADMIN, "new-alias", V1, expected_revision=3)
    assert [r.target for r in registry.aliases.history("prod-chat")] == [_target(V1), _target(V2)]
    assert [a.name for a in registry.aliases.all()] == ["prod-chat"]


# --- rollback ----------------------------------------------------------------------------


def test_rollback_restores_the_last_different_target_and_flips_back(registry: Registry) -> None:
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1)
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V2)
    back = registry.aliases.rollback(OPERATOR, "prod-chat", reason="p95 doubled")
    assert back.changed is True
    rev = back.revision
    assert (rev.revision, rev.action, rev.restored_from, rev.reason) == (
        3,
        AliasAction.ROLLBACK,
        1,
        "p95 doubled",
    )
    assert (rev.target, rev.previous) == (_target(V1), _target(V2))
    again = registry.aliases.rollback(OPERATOR, "prod-chat")
    assert (again.revision.target, again.revision.restored_from) == (_target(V2), 2)
    assert [r.revision for r in registry.aliases.history("prod-chat")] == [1, 2, 3, 4]


def test_rollback_to_a_named_revision(registry: Registry) -> None:
    for version in (V1, V2, V3):
        registry.aliases.set(LOCAL_ADMIN, "prod-chat", version)
    change = registry.aliases.rollback(LOCAL_ADMIN, "prod-chat", to=1)
    assert (change.revision.target, change.revision.restored_from) == (_target(V1), 1)
    assert _served(registry) == _target(V1)
    with pytest.raises(InvalidInput, match="same target"):
        registry.aliases.rollback(LOCAL_ADMIN, "prod-chat", to=1)
    with pytest.raises(NotFound, match="no revision 9"):
        registry.aliases.rollback(LOCAL_ADMIN, "prod-chat", to=9)
    assert len(registry.aliases.history("prod-chat")) == 4


def test_rollback_restores_fallbacks_too(registry: Registry) -> None:
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1, fallbacks=[V3])
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V2, fallbacks=[])
    registry.aliases.rollback(LOCAL_ADMIN, "prod-chat")
    assert _served(registry) == _target(V1, V3)


def test_rollback_without_an_earlier_target_is_refused(registry: Registry) -> None:
    with pytest.raises(NotFound):
        registry.aliases.rollback(LOCAL_ADMIN, "prod-chat")
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1)
    with pytest.raises(InvalidInput, match="no earlier revision"):
        registry.aliases.rollback(LOCAL_ADMIN, "prod-chat")
    assert len(registry.aliases.history("prod-chat")) == 1


# --- protection --------------------------------------------------------------------------


def test_protect_needs_deployer_and_a_reason_unprotect_needs_admin(registry: Registry) -> None:
    registry.aliases.set(OPERATOR, "prod-chat", V1)
    with pytest.raises(PermissionDenied):
        registry.aliases.protect(OPERATOR, "prod-chat", True, reason="prod")
    with pytest.raises(PermissionDenied, match="--reason"):
        registry.aliases.protect(DEPLOYER, "prod-chat", True)
    protected = registry.aliases.protect(DEPLOYER, "prod-chat", True, reason="serves customers")
    assert (protected.revision.action, protected.revision.protected) == (AliasAction.PROTECT, True)
    assert protected.revision.target == _target(V1)
    assert registry.aliases.get("prod-chat").protected is True
    assert registry.aliases.protect(DEPLOYER, "prod-chat", True, reason="again").changed is False

    with pytest.raises(PermissionDenied):
        registry.aliases.protect(DEPLOYER, "prod-chat", False, reason="migration")
    with pytest.raises(PermissionDenied, match="--reason"):
        registry.aliases.protect(LOCAL_ADMIN, "prod-chat", False)
    lifted = registry.aliases.protect(LOCAL_ADMIN, "prod-chat", False, reason="migration")
    assert (lifted.revision.action, lifted.revision.protected) == (AliasAction.UNPROTECT, False)
    assert registry.aliases.get("prod-chat").protected is False
    actions = [r.action for r in registry.aliases.history("prod-chat")]
    assert actions == [AliasAction.CREATE, AliasAction.PROTECT, AliasAction.UNPROTECT]


def test_lifting_protection_through_set_needs_admin_too(registry: Registry) -> None:
    registry.aliases.set(DEPLOYER, "prod-chat", V1, protected=True, reason="launch")
    with pytest.raises(PermissionDenied):
        registry.aliases.set(DEPLOYER, "prod-chat", V1, protected=False, reason="sneaky")
    with pytest.raises(PermissionDenied):
        registry.aliases.set(DEPLOYER, "prod-chat", V2, protected=False, reason="sneaky")
    assert registry.aliases.get("prod-chat").protected is True
    assert len(registry.aliases.history("prod-chat")) == 1
    lifted = registry.aliases.set(LOCAL_ADMIN, "prod-chat", V2, protected=False, reason="ok")
    assert (lifted.revision.protected, lifted.revision.target) == (False, _target(V2))


def test_protect_unknown_alias_is_not_found(registry: Registry) -> None:
    with pytest.raises(NotFound):
        registry.aliases.protect(LOCAL_ADMIN, "nope", True, reason="x")


def test_protected_alias_rules_for_set_and_rollback(registry: Registry) -> None:
    registry.aliases.set(DEPLOYER, "prod-chat", V1, protected=True, reason="launch")
    registry.aliases.set(DEPLOYER, "prod-chat", V2, reason="new release")
    with pytest.raises(PermissionDenied, match="deployer"):
        registry.aliases.set(OPERATOR, "prod-chat", V3, reason="please")
    with pytest.raises(PermissionDenied, match="--reason"):
        registry.aliases.set(DEPLOYER, "prod-chat", V3)
    with pytest.raises(PermissionDenied, match="--reason"):
        registry.aliases.set(DEPLOYER, "prod-chat", V3, reason="   ")
    with pytest.raises(PermissionDenied):
        registry.aliases.rollback(OPERATOR, "prod-chat", reason="regression")
    with pytest.raises(PermissionDenied, match="--reason"):
        registry.aliases.rollback(DEPLOYER, "prod-chat")
    assert _served(registry) == _target(V2)

    back = registry.aliases.rollback(DEPLOYER, "prod-chat", reason="regression")
    assert (back.revision.target, back.revision.protected) == (_target(V1), True)
    assert [r.reason for r in registry.aliases.history("prod-chat")] == [
        "launch",
        "new release",
        "regression",
    ]


def test_creating_an_alias_protected_needs_deployer(registry: Registry) -> None:
    with pytest.raises(PermissionDenied):
        registry.aliases.set(OPERATOR, "prod-chat", V1, protected=True, reason="launch")
    assert registry.aliases.all() == []


def test_floating_versions_need_allow_floating_and_never_serve_protected(
    registry: Registry,
) -> None:
    registry.versions.add(LOCAL_ADMIN, "openai/gpt-4o", allow_floating=True)
    with pytest.raises(InvalidInput, match="--allow-floating"):
        registry.aliases.set(LOCAL_ADMIN, "playground", "openai/gpt-4o")
    registry.aliases.set(LOCAL_ADMIN, "playground", "openai/gpt-4o", allow_floating=True)
    assert registry.aliases.get("playground").allow_floating is True
    # Once allowed, the alias keeps allowing it.
    registry.aliases.set(LOCAL_ADMIN, "playground", V1)
    registry.aliases.set(LOCAL_ADMIN, "playground", "openai/gpt-4o")
    with pytest.raises(PermissionDenied, match="pinned"):
        registry.aliases.protect(LOCAL_ADMIN, "playground", True, reason="prod now")

    registry.aliases.set(DEPLOYER, "prod-chat", V1, protected=True, reason="launch")
    with pytest.raises(PermissionDenied, match="floating"):
        registry.aliases.set(
            DEPLOYER, "prod-chat", "openai/gpt-4o", reason="try", allow_floating=True
        )
    with pytest.raises(PermissionDenied, match="floating"):
        registry.aliases.set(
            LOCAL_ADMIN,
            "prod-chat",
            V1,
            fallbacks=["openai/gpt-4o"],
            reason="try",
            allow_floating=True,
        )
    assert _served(registry) == _target(V1)


# --- point in time -----------------------------------------------------------------------


def test_resolve_at_several_instants(registry: Registry, clock: FakeClock) -> None:
    t1 = clock.advance(100)
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V1)
    t2 = clock.advance(100)
    registry.aliases.set(LOCAL_ADMIN, "prod-chat", V2)
    t3 = clock.advance(100)
    registry.aliases.rollback(LOCAL_ADMIN, "prod-chat")
    clock.advance(100)

    def at(instant: datetime) -> tuple[int, AliasTarget]:
        rev = registry.aliases.resolve_at("prod-chat", instant)
        return rev.revision, rev.target

    with pytest.raises(NotFound, match="did not exist"):
        registry.aliases.resolve_at("prod-chat", t1 - timedelta(microseconds=1))
    assert at(t1) == (1, _target(V1))
    assert at(t2 - timedelta(microseconds=1)) == (1, _target(V1))
    assert at(t2) == (2, _target(V2))
    assert at(t3 - timedelta(seconds=50)) == (2, _target(V2))
    assert at(t3) == (3, _target(V1))
    assert at(t3 + timedelta(days=365)) == (3, _target(V1))
    assert registry.aliases.resolve_at("prod-chat").revision == 3  # default: now
    # A timestamp in another zone names the same instant.
    plus_two = (t2 + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=2)))
    assert at(plus_two) == (2, _target(V2))
