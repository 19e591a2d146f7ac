"""Fixtures for the use-case tests: seeded versions and extra registries on one database.

Everything here runs on SQLite and PostgreSQL alike through the ``db_url``
parametrisation of ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select
from tests.support.rollouts import rollout_setup, traffic

from turnout.domain.access import LOCAL_ADMIN
from turnout.ports import Clock
from turnout.services.registry import Registry
from turnout.store import SqlStore
from turnout.store.schema import audit_log
from turnout.wiring import open_registry as wire_registry

__all__ = ["rollout_setup", "traffic"]  # re-exported fixtures

OpenRegistry = Callable[[], Registry]

SIM_VERSIONS = ("sim/chat-001", "sim/chat-002", "sim/chat-003")
"""Pinned (numbered) ids on the built-in ``sim`` provider, unknown to the catalog."""


@pytest.fixture
def sim_versions(registry: Registry) -> tuple[str, ...]:
    """Registers :data:`SIM_VERSIONS` (three audit entries) and returns their ids."""
    for vid in SIM_VERSIONS:
        registry.versions.add(LOCAL_ADMIN, vid)
    return SIM_VERSIONS


@pytest.fixture
def open_registry(db_url: str, clock: Clock) -> Iterator[OpenRegistry]:
    """Opens more registries (each with its own store and pool) on the test's database.

    Another process, in effect: nothing is shared with the ``registry`` fixture but
    the database itself. All of them are closed at the end of the test.
    """
    opened: list[Registry] = []

    def open_one() -> Registry:
        registry = wire_registry(db_url, clock=clock)
        opened.append(registry)
        return registry

    yield open_one
    for registry in opened:
        registry.close()


@pytest.fixture
def audit_count(store: SqlStore) -> Callable[[], int]:
    """Counts the stored audit rows (not the head), straight from the table."""

    def count() -> int:
        with store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())

    return count
