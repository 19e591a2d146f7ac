"""Alias names, targets, append-only history, rollback and point-in-time resolution."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.domain.aliases import (
    Alias,
    AliasAction,
    AliasRevision,
    AliasTarget,
    pick_rollback,
    revision_at,
    validate_alias_name,
)
from turnout.domain.ids import VersionId
from turnout.errors import InvalidInput, NotFound

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
A = VersionId("openai", "gpt-4o-2024-11-20")
B = VersionId("openai", "gpt-4.1-2025-04-14")
C = VersionId("anthropic", "claude-sonnet-4-6")
TARGETS = [AliasTarget(A), AliasTarget(B), AliasTarget(C), AliasTarget(A, (C,))]


# --- history built only through the domain ---------------------------------------------


def _create(target: AliasTarget, name: str = "prod-chat") -> tuple[Alias, list[AliasRevision]]:
    first = AliasRevision(
        validate_alias_name(name), 1, AliasAction.CREATE, target, None, False, "ana", None, T0
    )
    alias = Alias(name, target, 0).advanced(first)
    return alias, [first]


def _append(
    alias: Alias,
    history: list[AliasRevision],
    action: AliasAction,
    target: AliasTarget,
    restored_from: int | None = None,
) -> Alias:
    revision = AliasRevision(
        alias.name,
        alias.revision + 1,
        action,
        target,
        alias.target,
        alias.protected,
        "ana",
        f"{action} #{alias.revision + 1}",
        T0 + timedelta(minutes=alias.revision),
        restored_from,
    )
    history.append(revision)
    return alias.advanced(revision)


def _rollback(alias: Alias, history: list[AliasRevision], to: int | None = None) -> Alias:
    chosen = pick_rollback(history, to)
    return _append(alias, history, AliasAction.ROLLBACK, chosen.target, chosen.revision)


@dataclass(frozen=True)
class SetOp:
    target: int


@dataclass(frozen=True)
class RollbackOp:
    to: int | None  # None: the default "previous different target"


OPS = st.lists(
    st.one_of(
        st.builds(SetOp, st.integers(0, len(TARGETS) - 1)),
        st.builds(RollbackOp, st.none() | st.integers(1, 40)),
    ),
    max_size=30,
)


def _run(
    ops: Sequence[SetOp | RollbackOp],
) -> tuple[Alias, list[AliasRevision], list[tuple[AliasTarget, AliasTarget]]]:
    """Apply ``ops``; return the alias, its history and (before, after) of each rollback."""
    alias, history = _create(TARGETS[0])
    rollbacks: list[tuple[AliasTarget, AliasTarget]] = []
    for op in ops:
        if isinstance(op, SetOp):
            alias = _append(alias, history, AliasAction.SET, TARGETS[op.target])
            continue
        before = alias.target
        try:
            alias = _rollback(alias, history, op.to)
        except (InvalidInput, NotFound):
            continue
        rollbacks.append((before, alias.target))
    return alias, history, rollbacks


# --- properties -------------------------------------------------------------------------


@given(OPS)
def test_history_is_contiguous_and_the_alias_matches_its_newest_revision(
    ops: list[SetOp | RollbackOp],
) -> None:
    alias, history, _ = _run(ops)
    assert [rev.revision for rev in history] == list(range(1, len(history) + 1))
    assert alias.revision == len(history)
    assert alias.target == history[-1].target
    for earlier, later in itertools.pairwise(history):
        assert later.previous == earlier.target


@given(OPS)
def test_every_rollback_changes_what_is_served(ops: list[SetOp | RollbackOp]) -> None:
    _, history, rollbacks = _run(ops)
    for before, after in rollbacks:
        assert before != after
    for rev in history:
        if rev.action is AliasAction.ROLLBACK:
            assert rev.restored_from is not None
            assert rev.restored_from < rev.revision
            assert rev.target == history[rev.restored_from - 1].target
            assert rev.target != rev.previous


@given(OPS)
def test_a_second_rollback_flips_back(ops: list[SetOp | RollbackOp]) -> None:
    alias, history, _ = _run(ops)
    try:
        once = _rollback(alias, history)
    except InvalidInput:
        assert all(rev.target == alias.target for rev in history)
        return
    twice = _rollback(once, history)
    assert once.target != alias.target
    assert twice.target == alias.target


@given(OPS, st.data())
def test_revision_at_returns_the_revision_in_force(
    ops: list[SetOp | RollbackOp], data: st.DataObject
) -> None:
    _, history, _ = _run(ops)
    index = data.draw(st.integers(0, len(history) - 1))
    offset = data.draw(st.timedeltas(timedelta(0), timedelta(seconds=59)))
    assert revision_at(history, history[index].created_at + offset) == history[index]
    assert revision_at(history, T0 + timedelta(days=365)) == history[-1]


@given(OPS, st.data())
def test_pick_rollback_to_picks_that_revision(
    ops: list[SetOp | RollbackOp], data: st.DataObject
) -> None:
    _, history, _ = _run(ops)
    to = data.draw(st.integers(1, len(history)))
    if history[to - 1].target == history[-1].target:
        with pytest.raises(InvalidInput):
            pick_rollback(history, to)
    else:
        assert pick_rollback(history, to) is history[to - 1]


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["prod-chat", "a", "0", "chat_v2.1", "v", "v1x", "x" * 63])
def test_validate_alias_name_accepts(name: str) -> None:
    assert validate_alias_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "Prod", "-prod", "_prod", ".prod", "prod chat", "prod/chat", "x" * 64, "prod\n"]
)
def test_validate_alias_name_rejects_malformed(name: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validate_alias_name(name)
    assert "must match" in info.value.message


@pytest.mark.parametrize("name", ["latest", "v1", "v2024", "v0"])
def test_validate_alias_name_rejects_reserved(name: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validate_alias_name(name)
    assert "reserved" in info.value.message


@given(st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,62}", fullmatch=True))
def test_every_name_matching_the_pattern_is_legal_unless_reserved(name: str) -> None:
    reserved = name == "latest" or (name.startswith("v") and name[1:].isdigit() and len(name) > 1)
    if reserved:
        with pytest.raises(InvalidInput):
            validate_alias_name(name)
    else:
        assert validate_alias_name(name) == name


# --- targets -----------------------------------------------------------------------------


def test_target_rejects_itself_as_fallback_and_duplicates() -> None:
    with pytest.raises(InvalidInput, match="its own fallback"):
        AliasTarget(A, (B, A))
    with pytest.raises(InvalidInput, match="twice"):
        AliasTarget(A, (B, C, B))


def test_target_versions_and_describe() -> None:
    target = AliasTarget(A, (B, C))
    assert target.versions() == (A, B, C)
    assert target.describe() == f"{A} (fallbacks: {B}, {C})"
    assert AliasTarget(A).describe() == str(A)


@given(st.permutations([A, B, C]), st.integers(0, 2))
def test_target_round_trips_through_dict(order: list[VersionId], fallbacks: int) -> None:
    target = AliasTarget(order[0], tuple(order[1 : 1 + fallbacks]))
    data = target.to_dict()
    assert data["version"] == str(order[0])
    assert AliasTarget.from_dict(data) == target


def test_target_from_dict_validates() -> None:
    assert AliasTarget.from_dict({"version": str(A)}) == AliasTarget(A)
    assert AliasTarget.from_dict({"version": str(A), "fallbacks": None}) == AliasTarget(A)
    with pytest.raises(InvalidInput, match="must be a list"):
        AliasTarget.from_dict({"version": str(A), "fallbacks": str(B)})
    with pytest.raises(InvalidInput, match="provider/model_id"):
        AliasTarget.from_dict({"version": "gpt-4o"})
    with pytest.raises(InvalidInput, match="its own fallback"):
        AliasTarget.from_dict({"version": str(A), "fallbacks": [str(A)]})
    with pytest.raises(InvalidInput, match="version"):
        AliasTarget.from_dict({"fallbacks": []})


# --- history edge cases ------------------------------------------------------------------


def test_advanced_requires_the_next_revision_number() -> None:
    alias, _ = _create(TARGETS[0])
    stale = AliasRevision(
        alias.name, 3, AliasAction.SET, TARGETS[1], alias.target, False, "bo", None, T0
    )
    with pytest.raises(ValueError, match="does not follow 1"):
        alias.advanced(stale)
    protected = AliasRevision(
        alias.name, 2, AliasAction.PROTECT, alias.target, alias.target, True, "bo", "go live", T0
    )
    after = alias.advanced(protected)
    assert (after.revision, after.protected, after.updated_by) == (2, True, "bo")


def test_pick_rollback_errors() -> None:
    with pytest.raises(NotFound, match="no history"):
        pick_rollback([])
    alias, history = _create(TARGETS[0])
    with pytest.raises(InvalidInput, match="no earlier revision"):
        pick_rollback(history)
    alias = _append(alias, history, AliasAction.SET, TARGETS[0])
    with pytest.raises(InvalidInput, match="no earlier revision"):
        pick_rollback(history)
    alias = _append(alias, history, AliasAction.SET, TARGETS[1])
    with pytest.raises(NotFound, match="no revision 9 \\(it is at 3\\)"):
        pick_rollback(history, to=9)
    with pytest.raises(InvalidInput, match="revision 3 has the same target"):
        pick_rollback(history, to=3)
    assert pick_rollback(history, to=2) is history[1]
    assert pick_rollback(history) is history[1]


def test_default_rollback_skips_revisions_with_the_current_target() -> None:
    alias, history = _create(TARGETS[0])
    alias = _append(alias, history, AliasAction.SET, TARGETS[1])
    alias = _append(alias, history, AliasAction.PROTECT, TARGETS[1])
    alias = _append(alias, history, AliasAction.SET, TARGETS[1])
    assert pick_rollback(history).revision == 1


def test_revision_at_before_the_first_revision_is_not_found() -> None:
    alias, history = _create(TARGETS[0])
    _append(alias, history, AliasAction.SET, TARGETS[1])
    with pytest.raises(NotFound, match="'prod-chat' did not exist"):
        revision_at(history, T0 - timedelta(microseconds=1))
    with pytest.raises(NotFound):
        revision_at([], T0)
    assert revision_at(history, T0).revision == 1
    assert revision_at(history, T0 + timedelta(minutes=1)).revision == 2
