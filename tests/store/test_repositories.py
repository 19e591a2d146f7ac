"""The repository contract, run unchanged on SQLite and PostgreSQL (``db_url`` fixture).

Every test goes through ``store.unit_of_work()`` exactly as the services do, so
what passes here is what the use cases can rely on: compare-and-set alias
writes, a gapless hash chain, atomic transactions and lossless round trips.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from turnout.domain.access import Role
from turnout.domain.aliases import Alias, AliasAction, AliasRevision, AliasTarget
from turnout.domain.audit import GENESIS_HASH, JsonValue, entry_hash, verify_chain
from turnout.domain.ids import VersionId
from turnout.domain.providers import ApiKeyAuth, ProviderConfig, ProviderKind
from turnout.domain.versions import KnownIssue, ParamValue, Version, VersionStatus
from turnout.errors import Conflict, NotFound
from turnout.store import SqlStore
from turnout.store.schema import alias_revisions

T0 = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
V1 = VersionId("openai", "gpt-4o-2024-11-20")
V2 = VersionId("anthropic", "claude-sonnet-4-6")
V3 = VersionId("sim", "chat-001")


def _version(vid: VersionId, **changes: Any) -> Version:
    return replace(Version(id=vid, introduced_at=T0, introduced_by="ana"), **changes)


def _revision(
    name: str, number: int, target: AliasTarget, previous: AliasTarget | None, at: datetime
) -> AliasRevision:
    action = AliasAction.CREATE if number == 1 else AliasAction.SET
    return AliasRevision(name, number, action, target, previous, False, "ana", None, at)


def _write_alias(
    store: SqlStore, name: str, target: AliasTarget, expected: int, at: datetime = T0
) -> Alias:
    """Advance ``name`` to ``target`` compare-and-set on ``expected``, as the service does."""
    with store.unit_of_work(write=True) as uow:
        current = uow.aliases.get(name) or Alias(name, target, 0)
        previous = current.target if current.revision else None
        revision = _revision(name, expected + 1, target, previous, at)
        after = Alias(name, target, expected).advanced(revision)
        uow.aliases.write(after, revision, expected_revision=expected)
    return after


def _append(store: SqlStore, n: int, subject: str = "prod-chat") -> None:
    for i in range(n):
        with store.unit_of_work(write=True) as uow:
            uow.audit.append(T0 + timedelta(seconds=i), "ana", "alias.set", subject, {"i": i})


def _revision_rows(store: SqlStore, name: str) -> int:
    with store.engine.connect() as conn:
        query = select(func.count()).select_from(alias_revisions)
        return int(conn.execute(query.where(alias_revisions.c.alias == name)).scalar_one())


# --- versions ----------------------------------------------------------------------------


def test_version_add_get_all_update(store: SqlStore) -> None:
    first = _version(V1, params={"temperature": 0.2}, prompt_version="p@3")
    second = _version(V2)
    with store.unit_of_work(write=True) as uow:
        assert uow.versions.get(V1) is None
        uow.versions.add(first)
        uow.versions.add(second)
    with store.unit_of_work() as uow:
        assert uow.versions.get(V1) == first
        assert [v.id for v in uow.versions.all()] == sorted([V1, V2], key=str)

    issue = KnownIssue("refuses JSON mode", T0 + timedelta(hours=1), "bo")
    changed = _version(
        V1,
        params={"temperature": 0.2},
        prompt_version="p@3",
        promoted_at=T0 + timedelta(days=1),
        known_issues=(issue,),
        eval_scores={"exact": 0.91},
        deprecation_date=date(2026, 10, 14),
        retirement_date=date(2027, 1, 14),
        status=VersionStatus.DEPRECATED,
        floating_allowed=True,
        warnings=("floating id allowed",),
    )
    with store.unit_of_work(write=True) as uow:
        uow.versions.update(changed)
    with store.unit_of_work() as uow:
        assert uow.versions.get(V1) == changed
        assert uow.versions.get(V2) == second


def test_version_duplicate_add_conflicts(store: SqlStore) -> None:
    with store.unit_of_work(write=True) as uow:
        uow.versions.add(_version(V1))
    with pytest.raises(Conflict, match="already registered"), store.unit_of_work(write=True) as uow:
        uow.versions.add(_version(V1, introduced_by="someone-else"))
    with store.unit_of_work() as uow:
        assert uow.versions.get(V1) == _version(V1)


def test_version_update_of_unknown_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound), store.unit_of_work(write=True) as uow:
        uow.versions.update(_version(V1))


PARAMS: list[dict[str, ParamValue]] = [
    {"max_tokens": 512, "temperature": 0.25, "stream": True, "seed": None, "stop": "END"},
    {"big": 2**53 + 1, "tiny": 1e-9, "neg": -3, "zero_float": 0.0, "off": False},
    {"unicode": "héllo ✓", "one_float": 1.0, "one_int": 1},
]


def test_json_params_round_trip_with_their_types(store: SqlStore) -> None:
    with store.unit_of_work(write=True) as uow:
        for i, params in enumerate(PARAMS):
            uow.versions.add(_version(VersionId("sim", f"chat-00{i}"), params=params))
    with store.unit_of_work() as uow:
        stored = [uow.versions.get(VersionId("sim", f"chat-00{i}")) for i in range(len(PARAMS))]
    for version, params in zip(stored, PARAMS, strict=True):
        assert version is not None
        assert version.params == params
        # Equality alone would accept True for 1 and 1 for 1.0: the JSON types must survive.
        types = {k: type(v) for k, v in version.params.items()}
        assert types == {k: type(v) for k, v in params.items()}


# --- aliases -----------------------------------------------------------------------------


def test_alias_create_needs_expected_zero_and_update_the_right_revision(store: SqlStore) -> None:
    created = _write_alias(store, "prod-chat", AliasTarget(V1), expected=0)
    updated = _write_alias(store, "prod-chat", AliasTarget(V2, (V1,)), expected=1)
    with store.unit_of_work() as uow:
        assert uow.aliases.get("prod-chat") == updated
        assert [a.name for a in uow.aliases.all()] == ["prod-chat"]
        history = uow.aliases.history("prod-chat")
    assert created.revision == 1
    assert updated.revision == 2
    assert [(r.revision, r.target, r.previous) for r in history] == [
        (1, AliasTarget(V1), None),
        (2, AliasTarget(V2, (V1,)), AliasTarget(V1)),
    ]


def test_alias_stale_expected_revision_conflicts_and_writes_nothing(store: SqlStore) -> None:
    _write_alias(store, "prod-chat", AliasTarget(V1), expected=0)
    current = _write_alias(store, "prod-chat", AliasTarget(V2), expected=1)
    with store.unit_of_work(write=True) as uow:
        uow.audit.append(T0, "ana", "alias.set", "prod-chat", {})
    marker = store.change_marker()

    def flip_from(stale: int) -> None:
        revision = _revision("prod-chat", stale + 1, AliasTarget(V3), AliasTarget(V2), T0)
        attempt = Alias("prod-chat", AliasTarget(V3), stale + 1)
        with store.unit_of_work(write=True) as uow:
            uow.aliases.write(attempt, revision, expected_revision=stale)
            uow.audit.append(T0, "ana", "alias.set", "prod-chat", {"never": "stored"})

    for stale in (0, 1, 3):  # a re-create, an older revision, a future one
        with pytest.raises(Conflict):
            flip_from(stale)

        with store.unit_of_work() as uow:
            assert uow.aliases.get("prod-chat") == current
            assert [r.revision for r in uow.aliases.history("prod-chat")] == [1, 2]
        assert _revision_rows(store, "prod-chat") == 2
        assert store.change_marker() == marker


def test_alias_history_is_oldest_first_and_per_alias(store: SqlStore) -> None:
    targets = [AliasTarget(V1), AliasTarget(V2), AliasTarget(V3), AliasTarget(V1, (V3,))]
    for i, target in enumerate(targets):
        _write_alias(store, "prod-chat", target, expected=i, at=T0 + timedelta(minutes=i))
        if i < 2:
            _write_alias(store, "batch", target, expected=i, at=T0 + timedelta(minutes=i))
    with store.unit_of_work() as uow:
        history = uow.aliases.history("prod-chat")
        assert [r.revision for r in uow.aliases.history("batch")] == [1, 2]
        assert uow.aliases.history("missing") == []
        assert uow.aliases.get("missing") is None
        assert [a.name for a in uow.aliases.all()] == ["batch", "prod-chat"]
    assert [r.revision for r in history] == [1, 2, 3, 4]
    assert [r.target for r in history] == targets
    assert [r.created_at for r in history] == [T0 + timedelta(minutes=i) for i in range(4)]


def test_alias_revision_round_trips_every_field(store: SqlStore) -> None:
    target = AliasTarget(V2, (V1, V3))
    first = AliasRevision(
        "prod-chat", 1, AliasAction.CREATE, target, None, True, "deployer-dee", "launch", T0
    )
    after = Alias("prod-chat", target, 0, allow_floating=True).advanced(first)
    with store.unit_of_work(write=True) as uow:
        uow.aliases.write(after, first, expected_revision=0)
    second = AliasRevision(
        "prod-chat",
        2,
        AliasAction.ROLLBACK,
        AliasTarget(V1),
        target,
        True,
        "ana",
        "bad evals",
        T0 + timedelta(seconds=1),
        restored_from=1,
    )
    with store.unit_of_work(write=True) as uow:
        uow.aliases.write(after.advanced(second), second, expected_revision=1)
    with store.unit_of_work() as uow:
        assert uow.aliases.history("prod-chat") == [first, second]
        assert uow.aliases.get("prod-chat") == after.advanced(second)


# --- providers ---------------------------------------------------------------------------


def test_provider_put_is_an_upsert(store: SqlStore) -> None:
    local = ProviderConfig("local", ProviderKind.OPENAI, "http://127.0.0.1:8000/v1")
    sim = ProviderConfig("sim", ProviderKind.SIM)
    with store.unit_of_work(write=True) as uow:
        assert uow.providers.get("local") is None
        uow.providers.put(local)
        uow.providers.put(sim)
    moved = ProviderConfig("local", ProviderKind.OPENAI, "http://10.0.0.7:8000/v1", "LOCAL_KEY")
    with store.unit_of_work(write=True) as uow:
        uow.providers.put(moved)
    with store.unit_of_work() as uow:
        assert uow.providers.get("local") == moved
        assert uow.providers.all() == [moved, sim]


def test_a_provider_keeps_its_azure_auth_and_api_version(store: SqlStore) -> None:
    azure = ProviderConfig(
        "azure",
        ProviderKind.OPENAI,
        "https://res.openai.azure.com/openai/deployments/gpt-4o-2024-11-20",
        "AZURE_OPENAI_API_KEY",
        ApiKeyAuth.API_KEY,
        "2024-10-21",
    )
    with store.unit_of_work(write=True) as uow:
        uow.providers.put(azure)
    with store.unit_of_work() as uow:
        assert uow.providers.get("azure") == azure
    bearer = replace(azure, auth=None, api_version=None)  # back to the kind's defaults
    with store.unit_of_work(write=True) as uow:
        uow.providers.put(bearer)
    with store.unit_of_work() as uow:
        assert uow.providers.get("azure") == bearer


# --- tokens ------------------------------------------------------------------------------


def _add_token(store: SqlStore, name: str, digest: str, expires_at: datetime | None = None) -> int:
    with store.unit_of_work(write=True) as uow:
        token = uow.tokens.add(name, Role.DEPLOYER, "tnt_abcdef", digest, T0, "ana", expires_at)
    return token.id


def test_token_add_find_by_hash_name_and_id(store: SqlStore) -> None:
    expires = T0 + timedelta(days=30)
    first = _add_token(store, "ci", "a" * 64, expires)
    second = _add_token(store, "dashboard", "b" * 64)
    assert first != second
    with store.unit_of_work() as uow:
        by_hash = uow.tokens.by_hash("a" * 64)
        assert by_hash is not None
        assert (by_hash.id, by_hash.name, by_hash.role) == (first, "ci", Role.DEPLOYER)
        assert (by_hash.prefix, by_hash.created_by) == ("tnt_abcdef", "ana")
        assert (by_hash.created_at, by_hash.expires_at, by_hash.revoked_at) == (T0, expires, None)
        assert uow.tokens.by_hash("c" * 64) is None
        assert uow.tokens.find("ci") == by_hash
        assert uow.tokens.find(str(first)) == by_hash
        assert uow.tokens.find("nobody") is None
        assert uow.tokens.find("9999") is None
        assert [t.name for t in uow.tokens.all()] == ["ci", "dashboard"]


def test_token_duplicate_active_name_conflicts_until_revoked(store: SqlStore) -> None:
    first = _add_token(store, "ci", "a" * 64)
    with pytest.raises(Conflict, match="active token named 'ci'"):
        _add_token(store, "ci", "b" * 64)

    revoked_at = T0 + timedelta(hours=2)
    with store.unit_of_work(write=True) as uow:
        uow.tokens.revoke(first, revoked_at)
        uow.tokens.revoke(first, revoked_at + timedelta(hours=1))  # a second revoke changes nothing
    second = _add_token(store, "ci", "b" * 64)
    with store.unit_of_work() as uow:
        old = uow.tokens.find(str(first))
        newest = uow.tokens.find("ci")
    assert old is not None
    assert old.revoked_at == revoked_at
    assert newest is not None
    assert (newest.id, newest.revoked_at) == (second, None)


def test_token_hash_is_unique(store: SqlStore) -> None:
    _add_token(store, "ci", "a" * 64)
    with pytest.raises(Conflict):
        _add_token(store, "other", "a" * 64)


# --- audit -------------------------------------------------------------------------------


def test_audit_empty_log_has_genesis_head(store: SqlStore) -> None:
    with store.unit_of_work() as uow:
        assert uow.audit.head() == (0, GENESIS_HASH)
        assert uow.audit.entries() == []
        assert list(uow.audit.iterate()) == []
        assert verify_chain(uow.audit.iterate(), uow.audit.head()) is None


def test_audit_append_chains_each_entry_to_the_previous(store: SqlStore) -> None:
    detail: dict[str, JsonValue] = {"nested": {"list": [1, 2.5, None, True]}, "text": "ünï"}
    with store.unit_of_work(write=True) as uow:
        first = uow.audit.append(T0, "ana", "version.add", str(V1), detail)
        second = uow.audit.append(T0, "ana", "alias.create", "prod-chat", {})
    with store.unit_of_work(write=True) as uow:
        third = uow.audit.append(T0 + timedelta(seconds=1), "bo", "alias.set", "prod-chat", {})
        assert uow.audit.head() == (3, third.hash)

    assert [e.seq for e in (first, second, third)] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert first.hash == entry_hash(1, T0, "ana", "version.add", str(V1), detail, GENESIS_HASH)
    with store.unit_of_work() as uow:
        stored = list(uow.audit.iterate())
        assert stored == [first, second, third]
        assert verify_chain(stored, uow.audit.head()) is None


def test_audit_entries_order_paging_and_subject_filter(store: SqlStore) -> None:
    for i in range(6):
        with store.unit_of_work(write=True) as uow:
            subject = "prod-chat" if i % 2 == 0 else "batch"
            uow.audit.append(T0 + timedelta(seconds=i), "ana", "alias.set", subject, {"i": i})
    with store.unit_of_work() as uow:
        assert [e.seq for e in uow.audit.entries()] == [1, 2, 3, 4, 5, 6]
        assert [e.seq for e in uow.audit.entries(newest_first=True)] == [6, 5, 4, 3, 2, 1]
        assert [e.seq for e in uow.audit.entries(newest_first=True, limit=2)] == [6, 5]
        assert [e.seq for e in uow.audit.entries(after_seq=4)] == [5, 6]
        assert [e.seq for e in uow.audit.entries(subject="batch")] == [2, 4, 6]
        newest_batch = uow.audit.entries(newest_first=True, limit=2, subject="prod-chat")
        assert [e.seq for e in newest_batch] == [5, 3]
        assert [e.detail for e in uow.audit.entries(subject="nothing")] == []
        assert [e.seq for e in uow.audit.iterate()] == [1, 2, 3, 4, 5, 6]


def test_audit_entries_filter_by_action_prefix_literally(store: SqlStore) -> None:
    actions = ["alias.set", "alias.rollback", "token.create", "aliasXset", "alias_set"]
    for i, action in enumerate(actions):
        with store.unit_of_work(write=True) as uow:
            uow.audit.append(T0 + timedelta(seconds=i), "ana", action, "prod-chat", {})
    with store.unit_of_work() as uow:

        def matching(prefix: str, **options: Any) -> list[str]:
            return [e.action for e in uow.audit.entries(action_prefix=prefix, **options)]

        assert matching("alias.") == ["alias.set", "alias.rollback"]  # '.' is no wildcard
        assert matching("alias_") == ["alias_set"]  # nor is '_' (LIKE's one-character one)
        assert matching("alias%") == []  # nor '%'
        assert matching("token.create") == ["token.create"]
        assert matching("alias.", newest_first=True, limit=1) == ["alias.rollback"]
        assert matching("alias.", subject="batch") == []
        assert len(matching("")) == len(actions)  # an empty prefix filters nothing


def test_audit_iterate_streams_more_than_one_batch_worth(store: SqlStore) -> None:
    with store.unit_of_work(write=True) as uow:
        for i in range(30):
            uow.audit.append(T0, "ana", "bulk", "s", {"i": i})
    with store.unit_of_work() as uow:
        seen = [entry.detail["i"] for entry in uow.audit.iterate()]
        # The session is still usable after the stream.
        assert uow.audit.head() is not None
    assert seen == list(range(30))


def test_audit_iterate_abandoned_early_leaves_nothing_open(store: SqlStore) -> None:
    _append(store, 3)
    with store.unit_of_work() as uow:
        stream = uow.audit.iterate()
        assert next(stream).seq == 1
        del stream  # a verifier that stops at the first break drops its iterator like this
        assert uow.audit.head() is not None
        assert [e.seq for e in uow.audit.entries(limit=1, newest_first=True)] == [3]


# --- change marker and transactions ------------------------------------------------------


def test_change_marker_grows_with_each_write_and_not_with_reads(store: SqlStore) -> None:
    markers = [store.change_marker()]
    for i in range(3):
        with store.unit_of_work(write=True) as uow:
            uow.versions.add(_version(VersionId("sim", f"chat-00{i}")))
            uow.audit.append(T0, "ana", "version.add", f"sim/chat-00{i}", {})
        markers.append(store.change_marker())
    with store.unit_of_work() as uow:
        uow.versions.all()
        uow.audit.entries()
        list(uow.audit.iterate())
    assert store.change_marker() == markers[-1]
    assert markers == sorted(set(markers))
    assert markers[0] == 0


def test_failed_transaction_rolls_back_everything_including_audit(store: SqlStore) -> None:
    _append(store, 1)
    before_head = _head(store)

    class Boom(Exception):
        pass

    def write_everything_then_fail() -> None:
        with store.unit_of_work(write=True) as uow:
            uow.versions.add(_version(V1))
            uow.providers.put(ProviderConfig("local", ProviderKind.SIM))
            uow.tokens.add("ci", Role.ADMIN, "tnt_x", "d" * 64, T0, "ana", None)
            target = AliasTarget(V1)
            first = _revision("prod-chat", 1, target, None, T0)
            uow.aliases.write(Alias("prod-chat", target, 0).advanced(first), first, 0)
            uow.audit.append(T0, "ana", "alias.create", "prod-chat", {})
            raise Boom

    with pytest.raises(Boom):
        write_everything_then_fail()

    with store.unit_of_work() as uow:
        assert uow.versions.all() == []
        assert uow.providers.all() == []
        assert uow.tokens.all() == []
        assert uow.aliases.all() == []
        assert uow.aliases.history("prod-chat") == []
        assert [e.seq for e in uow.audit.entries()] == [1]
    assert _head(store) == before_head
    assert store.change_marker() == 1


def test_a_conflict_inside_a_transaction_rolls_back_its_earlier_writes(store: SqlStore) -> None:
    with store.unit_of_work(write=True) as uow:
        uow.versions.add(_version(V1))

    def add_two_of_which_one_exists() -> None:
        with store.unit_of_work(write=True) as uow:
            uow.versions.add(_version(V2))
            uow.audit.append(T0, "ana", "version.add", str(V2), {})
            uow.versions.add(_version(V1))

    with pytest.raises(Conflict):
        add_two_of_which_one_exists()
    with store.unit_of_work() as uow:
        assert [v.id for v in uow.versions.all()] == [V1]
        assert uow.audit.entries() == []


def _head(store: SqlStore) -> tuple[int, str] | None:
    with store.unit_of_work() as uow:
        return uow.audit.head()


# --- datetimes ---------------------------------------------------------------------------


INSTANTS = [
    datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC),
    datetime(2026, 3, 1, 8, 30, 15, 1, tzinfo=UTC),
    datetime(2026, 3, 1, 10, 30, 15, 999999, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 3, 1, 3, 0, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
]


def test_datetimes_round_trip_aware_utc_with_microseconds(store: SqlStore) -> None:
    appended = []
    for i, at in enumerate(INSTANTS):
        with store.unit_of_work(write=True) as uow:
            vid = VersionId("sim", f"chat-00{i}")
            uow.versions.add(_version(vid, introduced_at=at, promoted_at=at))
            uow.tokens.add(f"t{i}", Role.VIEWER, "tnt_x", f"{i}" * 64, at, "ana", at)
            target = AliasTarget(vid)
            first = _revision(f"a{i}", 1, target, None, at)
            uow.aliases.write(Alias(f"a{i}", target, 0).advanced(first), first, 0)
            appended.append(uow.audit.append(at, "ana", "alias.create", f"a{i}", {}))

    with store.unit_of_work() as uow:
        entries = list(uow.audit.iterate())
        brk = verify_chain(entries, uow.audit.head())
        for i, at in enumerate(INSTANTS):
            version = uow.versions.get(VersionId("sim", f"chat-00{i}"))
            token = uow.tokens.find(f"t{i}")
            alias = uow.aliases.get(f"a{i}")
            assert version is not None
            assert token is not None
            assert alias is not None
            stamps = [
                version.introduced_at,
                version.promoted_at,
                token.created_at,
                token.expires_at,
                alias.updated_at,
                uow.aliases.history(f"a{i}")[0].created_at,
                entries[i].at,
            ]
            for stamp in stamps:
                assert stamp == at
                assert stamp is not None
                assert stamp.utcoffset() == timedelta(0)
                assert stamp.microsecond == at.microsecond
    # The hash covers the timestamp's text: what is read back must hash the same.
    assert [e.hash for e in entries] == [e.hash for e in appended]
    assert brk is None
