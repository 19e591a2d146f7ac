"""Real races between writers, each with its own store and connection pool.

Every worker is a separate :class:`Registry` opened on the same database (as
separate processes or replicas would be), released together by a barrier. What
is asserted is what must hold whatever the interleaving: compare-and-set has
exactly one winner, alias histories have no gap and no lost step, and the audit
chain never forks.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from turnout.domain.access import LOCAL_ADMIN, Role
from turnout.domain.aliases import AliasTarget
from turnout.domain.versions import Version
from turnout.errors import Conflict
from turnout.services.aliases import AliasChange
from turnout.services.registry import Registry

N = 8
ROUNDS = 4
ALIAS = "prod-chat"
VERSIONS = tuple(f"sim/race-{i:03d}" for i in range(N + 1))

OpenRegistry = Callable[[], Registry]
T = TypeVar("T")
Outcome = T | Exception


def _race(workers: Sequence[Registry], action: Callable[[Registry, int], T]) -> list[Outcome[T]]:
    """Run ``action(worker, i)`` in one thread per worker, all released at once."""
    barrier = threading.Barrier(len(workers))

    def run(i: int) -> Outcome[T]:
        barrier.wait(timeout=30)
        try:
            return action(workers[i], i)
        except Exception as exc:  # the outcome under test
            return exc

    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        return list(pool.map(run, range(len(workers)), timeout=60))


def _unexpected(outcomes: Sequence[object], *allowed: type) -> list[object]:
    return [o for o in outcomes if not isinstance(o, allowed)]


def _assert_history_is_a_gapless_chain(registry: Registry, name: str = ALIAS) -> None:
    history = registry.aliases.history(name)
    assert [rev.revision for rev in history] == list(range(1, len(history) + 1))
    for before, after in itertools.pairwise(history):
        assert after.previous == before.target  # no step was lost between two writers
    alias = registry.aliases.get(name)
    assert (alias.revision, alias.target) == (history[-1].revision, history[-1].target)


def _assert_audit_intact(registry: Registry, expected_entries: int) -> None:
    assert registry.audit.verify(LOCAL_ADMIN) == (expected_entries, None)
    seqs = [entry.seq for entry in registry.audit.entries(LOCAL_ADMIN, limit=None)]
    assert sorted(seqs) == list(range(1, expected_entries + 1))


def _set_each(
    choices: Sequence[str], expected_revision: int | None = None
) -> Callable[[Registry, int], AliasChange]:
    """Worker ``i`` points the alias at ``choices[i]``."""

    def action(worker: Registry, i: int) -> AliasChange:
        return worker.aliases.set(
            LOCAL_ADMIN, ALIAS, choices[i], expected_revision=expected_revision
        )

    return action


@pytest.fixture
def workers(open_registry: OpenRegistry) -> list[Registry]:
    return [open_registry() for _ in range(N)]


@pytest.fixture
def race_versions(registry: Registry) -> tuple[str, ...]:
    for vid in VERSIONS:
        registry.versions.add(LOCAL_ADMIN, vid)
    registry.aliases.set(LOCAL_ADMIN, ALIAS, VERSIONS[0])
    return VERSIONS


def test_compare_and_set_race_has_exactly_one_winner(
    registry: Registry, workers: list[Registry], race_versions: tuple[str, ...]
) -> None:
    for round_no in range(ROUNDS):
        current = registry.aliases.get(ALIAS)
        seen = current.revision
        # Every worker asks for a different version, none of them the one served now.
        choices = [v for v in race_versions if v != str(current.target.version)]

        outcomes = _race(workers, _set_each(choices, expected_revision=seen))

        assert _unexpected(outcomes, AliasChange, Conflict) == []
        winners = [o for o in outcomes if isinstance(o, AliasChange)]
        assert len(winners) == 1, f"round {round_no}: {outcomes}"
        (winner,) = winners
        assert winner.changed
        assert winner.revision.revision == seen + 1
        assert registry.aliases.get(ALIAS).target == winner.revision.target
        _assert_history_is_a_gapless_chain(registry)

    assert registry.aliases.get(ALIAS).revision == 1 + ROUNDS
    _assert_audit_intact(registry, len(VERSIONS) + 1 + ROUNDS)


def test_race_without_expected_revision_keeps_history_and_chain_whole(
    registry: Registry, workers: list[Registry], race_versions: tuple[str, ...]
) -> None:
    applied = 0
    for _ in range(ROUNDS):
        before = registry.aliases.get(ALIAS).revision
        outcomes = _race(workers, _set_each(race_versions[1:]))
        # SQLite serialises the writers (each reads inside BEGIN IMMEDIATE, so all
        # apply); on PostgreSQL the losers of the row lock may conflict instead.
        assert _unexpected(outcomes, AliasChange, Conflict) == []
        changed = [o for o in outcomes if isinstance(o, AliasChange) and o.changed]
        assert changed, outcomes
        assert registry.aliases.get(ALIAS).revision == before + len(changed)
        assert sorted(c.revision.revision for c in changed) == list(
            range(before + 1, before + 1 + len(changed))
        )
        applied += len(changed)
        _assert_history_is_a_gapless_chain(registry)

    _assert_audit_intact(registry, len(VERSIONS) + 1 + applied)


def test_racing_creators_of_a_new_alias_create_it_once(
    registry: Registry, workers: list[Registry], race_versions: tuple[str, ...]
) -> None:
    outcomes = _race(
        workers,
        lambda worker, i: worker.aliases.set(
            LOCAL_ADMIN, "fresh", race_versions[i], expected_revision=0
        ),
    )
    assert _unexpected(outcomes, AliasChange, Conflict) == []
    (winner,) = [o for o in outcomes if isinstance(o, AliasChange)]
    history = registry.aliases.history("fresh")
    assert history == [winner.revision]
    _assert_audit_intact(registry, len(VERSIONS) + 2)


def test_concurrent_token_and_version_writes_never_fork_the_chain(
    registry: Registry, workers: list[Registry]
) -> None:
    per_worker = 3

    def write_a_few(worker: Registry, i: int) -> int:
        for j in range(per_worker):
            if (i + j) % 2:
                worker.tokens.create(LOCAL_ADMIN, f"tok-{i}-{j}", Role.VIEWER)
            else:
                worker.versions.add(LOCAL_ADMIN, f"sim/w{i}-{j:03d}")
        return per_worker

    outcomes = _race(workers, write_a_few)
    assert outcomes == [per_worker] * N
    total = N * per_worker
    _assert_audit_intact(registry, total)
    entries = registry.audit.entries(LOCAL_ADMIN, limit=None)
    assert len(registry.versions.all()) + len(registry.tokens.all(LOCAL_ADMIN)) == total
    assert {e.action for e in entries} == {"version.add", "token.create"}


def test_racing_adds_of_one_version_register_it_once(
    registry: Registry, workers: list[Registry]
) -> None:
    outcomes = _race(
        workers,
        lambda worker, i: worker.versions.add(LOCAL_ADMIN, "sim/chat-001", {"seed": i}),
    )
    added = [o for o in outcomes if isinstance(o, Version)]
    assert len(added) == 1, outcomes
    assert _unexpected([o for o in outcomes if o not in added], Conflict) == []
    assert registry.versions.get("sim/chat-001") == added[0]
    _assert_audit_intact(registry, 1)


def test_racing_creators_of_one_token_name_get_one_active_token(
    registry: Registry, workers: list[Registry]
) -> None:
    outcomes = _race(
        workers, lambda worker, i: worker.tokens.create(LOCAL_ADMIN, "ci", Role.VIEWER)
    )
    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(f, Conflict) for f in failures), failures
    active = [t for t in registry.tokens.all(LOCAL_ADMIN) if t.revoked_at is None]
    assert [t.name for t in active] == ["ci"]
    assert len(failures) == N - 1
    _assert_audit_intact(registry, 1)


def test_concurrent_known_issues_are_all_kept(registry: Registry, workers: list[Registry]) -> None:
    registry.versions.add(LOCAL_ADMIN, "sim/chat-001")
    outcomes = _race(
        workers,
        lambda worker, i: worker.versions.add_known_issue(
            LOCAL_ADMIN, "sim/chat-001", f"issue {i}"
        ),
    )
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    texts = sorted(issue.text for issue in registry.versions.get("sim/chat-001").known_issues)
    assert texts == sorted(f"issue {i}" for i in range(N))
    _assert_audit_intact(registry, 1 + N)


def test_concurrent_flips_of_different_aliases_promote_each_version_once(
    registry: Registry, workers: list[Registry], race_versions: tuple[str, ...]
) -> None:
    promoted_at = registry.versions.get(race_versions[0]).promoted_at
    target = race_versions[1]
    outcomes = _race(
        workers, lambda worker, i: worker.aliases.set(LOCAL_ADMIN, f"alias-{i}", target)
    )
    assert _unexpected(outcomes, AliasChange) == []
    assert registry.versions.get(race_versions[0]).promoted_at == promoted_at
    assert registry.versions.get(target).promoted_at is not None
    for i in range(N):
        assert registry.aliases.get(f"alias-{i}").target == AliasTarget.from_dict(
            {"version": target}
        )
    _assert_audit_intact(registry, len(VERSIONS) + 1 + N)
