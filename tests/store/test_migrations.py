"""Migrations and opening a store: what a fresh, a current and a bad database do."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from turnout.domain.audit import GENESIS_HASH
from turnout.errors import InvalidInput, StoreUnavailable
from turnout.store import open_store
from turnout.store.migrate import HEAD_REVISION, ensure_schema, stamped_revision
from turnout.store.schema import audit_head, metadata


def test_fresh_database_is_migrated_to_head(empty_db_url: str) -> None:
    store = open_store(empty_db_url, migrate=False)
    try:
        assert stamped_revision(store.engine) is None
        assert ensure_schema(store.engine) is True
        assert stamped_revision(store.engine) == HEAD_REVISION
        assert ensure_schema(store.engine) is False
        assert stamped_revision(store.engine) == HEAD_REVISION
        with store.engine.connect() as conn:
            heads = conn.execute(select(audit_head)).all()
        assert [tuple(row) for row in heads] == [(1, 0, GENESIS_HASH)]
        assert store.change_marker() == 0
    finally:
        store.close()


def test_open_store_migrates_once_and_reopening_is_a_no_op(empty_db_url: str) -> None:
    first = open_store(empty_db_url)
    first.close()
    second = open_store(empty_db_url)
    try:
        assert stamped_revision(second.engine) == HEAD_REVISION
        assert ensure_schema(second.engine) is False
    finally:
        second.close()


def test_migrated_tables_match_the_schema_metadata(empty_db_url: str) -> None:
    store = open_store(empty_db_url)
    try:
        with store.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "target_metadata": metadata}
            )
            diffs = compare_metadata(context, metadata)
    finally:
        store.close()
    assert tables == {*metadata.tables, "alembic_version"}
    assert diffs == []


def test_an_unmigrated_database_is_reported_not_initialised(empty_db_url: str) -> None:
    store = open_store(empty_db_url, migrate=False)
    try:
        with pytest.raises(StoreUnavailable, match="not initialised"):
            store.change_marker()
        with pytest.raises(StoreUnavailable, match="not initialised"), store.unit_of_work() as uow:
            uow.versions.all()
    finally:
        store.close()


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root@127.0.0.1/turnout",
        "mysql+pymysql://root@127.0.0.1/turnout",
        "oracle://scott:tiger@127.0.0.1/orcl",
        "sqlite+aiosqlite:///turnout.db",
        "garbage",
        "",
        "://nothing",
    ],
)
def test_unsupported_urls_are_invalid_input(url: str) -> None:
    with pytest.raises(InvalidInput):
        open_store(url)


def test_sqlite_path_in_a_missing_directory_is_invalid_input(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "registry.db"
    with pytest.raises(InvalidInput, match="does not exist"):
        open_store(f"sqlite:///{missing}")
    assert not missing.parent.exists()


def test_unreachable_postgres_is_store_unavailable_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        open_store("postgresql://turnout:s3cret@127.0.0.1:1/registry")
    elapsed = time.monotonic() - started
    message = caught.value.message
    assert "unreachable" in message
    assert "127.0.0.1" in message
    assert "s3cret" not in message
    assert elapsed < 5.0


def test_providers_stored_before_0008_keep_their_meaning(empty_db_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from turnout.domain.providers import ProviderConfig, ProviderKind
    from turnout.store.engine import WRITE_OPTION
    from turnout.store.migrate import _SCRIPTS

    store = open_store(empty_db_url, migrate=False)
    try:
        with store.engine.connect() as raw:
            conn = raw.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                config = Config()
                config.set_main_option("script_location", str(_SCRIPTS))
                config.attributes["connection"] = conn
                command.upgrade(config, "0007")
                conn.exec_driver_sql(
                    "INSERT INTO providers (name, kind, base_url, api_key_env) "
                    "VALUES ('vllm', 'openai', 'http://127.0.0.1:8000/v1', 'VLLM_KEY')"
                )
        assert stamped_revision(store.engine) == "0007"
        assert ensure_schema(store.engine) is True
        assert stamped_revision(store.engine) == HEAD_REVISION
        with store.unit_of_work() as uow:
            stored = uow.providers.get("vllm")
    finally:
        store.close()
    assert stored == ProviderConfig(
        "vllm", ProviderKind.OPENAI, "http://127.0.0.1:8000/v1", "VLLM_KEY"
    )
    assert stored.auth is None
    assert stored.api_version is None
