"""The seams between use cases and the outside world, as Protocols.

Services depend on these, never on SQLAlchemy or a clock directly. The SQL store
(``turnout.store``) implements the repositories for SQLite and PostgreSQL alike,
and one contract suite (``tests/store``) runs against both.

A *unit of work* is one database transaction: everything read and written through
it commits together or not at all, including the audit entry that records it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Protocol

from turnout.domain.access import ApiToken, Role
from turnout.domain.aliases import Alias, AliasRevision
from turnout.domain.audit import AuditEntry, JsonValue
from turnout.domain.catalog import CatalogEntry
from turnout.domain.completions import Completion, Message
from turnout.domain.eval_runs import EvalRun
from turnout.domain.health import HealthEvent, VersionTraffic
from turnout.domain.ids import VersionId
from turnout.domain.providers import ProviderConfig
from turnout.domain.requests import RequestRecord
from turnout.domain.rollouts import Observation, Rollout
from turnout.domain.shadow import ShadowCount, ShadowPair
from turnout.domain.versions import ParamValue, Version

__all__ = [
    "AliasRepository",
    "AuditRepository",
    "CatalogRepository",
    "ChangeListener",
    "Clock",
    "EvalRepository",
    "LeaderLock",
    "ModelCaller",
    "ParamCheck",
    "ProviderRepository",
    "RegistryStore",
    "RolloutObserver",
    "RolloutRepository",
    "TokenRepository",
    "UnitOfWork",
    "VersionRepository",
]

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware UTC. Tests pass a fake one."""

ParamCheck = Callable[[ProviderConfig, Mapping[str, ParamValue]], None]
"""Validates a version's default params for its provider's adapter (raises InvalidInput)."""


class VersionRepository(Protocol):
    def get(self, version_id: VersionId) -> Version | None: ...

    def all(self) -> list[Version]: ...

    def add(self, version: Version) -> None:
        """Insert; raise :class:`~turnout.errors.Conflict` if the id exists."""

    def update(self, version: Version) -> None:
        """Replace the stored record of an existing version."""


class AliasRepository(Protocol):
    def get(self, name: str) -> Alias | None: ...

    def all(self) -> list[Alias]: ...

    def history(self, name: str) -> list[AliasRevision]:
        """All revisions of ``name``, oldest first."""

    def write(self, alias: Alias, revision: AliasRevision, expected_revision: int) -> None:
        """Store ``revision`` and the alias state after it, compare-and-set.

        ``expected_revision`` is the revision the caller read (0 to create). If the
        stored alias is no longer at it, raise :class:`~turnout.errors.Conflict`
        and write nothing.
        """


class ProviderRepository(Protocol):
    def get(self, name: str) -> ProviderConfig | None: ...

    def all(self) -> list[ProviderConfig]: ...

    def put(self, config: ProviderConfig) -> None: ...


class TokenRepository(Protocol):
    def add(
        self,
        name: str,
        role: Role,
        prefix: str,
        token_hash: str,
        created_at: datetime,
        created_by: str,
        expires_at: datetime | None,
    ) -> ApiToken:
        """Insert; raise :class:`~turnout.errors.Conflict` if an active token has ``name``."""

    def by_hash(self, token_hash: str) -> ApiToken | None: ...

    def find(self, name_or_id: str) -> ApiToken | None:
        """The newest token with that name, or the token with that numeric id."""

    def all(self) -> list[ApiToken]: ...

    def revoke(self, token_id: int, at: datetime) -> None: ...


class AuditRepository(Protocol):
    def append(
        self,
        at: datetime,
        actor: str,
        action: str,
        subject: str,
        detail: dict[str, JsonValue],
    ) -> AuditEntry:
        """Append an entry chained to the current head; serialised across writers."""

    def entries(
        self,
        after_seq: int = 0,
        limit: int | None = None,
        newest_first: bool = False,
        subject: str | None = None,
        action_prefix: str | None = None,
    ) -> list[AuditEntry]: ...

    def iterate(self) -> Iterator[AuditEntry]:
        """Every entry in ``seq`` order, streamed (for verification of large logs)."""

    def head(self) -> tuple[int, str] | None: ...


class LeaderLock(Protocol):
    """Who runs the rollout controller: one process at a time."""

    def acquire(self) -> bool:
        """Take or keep the lock; True while this process holds it. Never raises
        for a store outage (returns False: nobody acts on stale information)."""

    def release(self) -> None: ...


class RolloutObserver(Protocol):
    """Reads a rollout's traffic from the request log (the store implements it)."""

    def observe(self, rollout: Rollout, now: datetime) -> Observation: ...


class RolloutRepository(Protocol):
    def add(self, rollout: Rollout) -> int:
        """Insert a new rollout and return its id."""

    def get(self, rollout_id: int) -> Rollout | None: ...

    def latest(self, alias: str) -> Rollout | None:
        """The alias's newest rollout, active or finished."""

    def active(self) -> list[Rollout]: ...

    def history(self, alias: str | None = None, limit: int = 50) -> list[Rollout]: ...

    def update(self, rollout: Rollout, expected_seq: int) -> None:
        """Compare-and-set on ``seq``; raise Conflict if it moved."""


class EvalRepository(Protocol):
    """Eval runs and their per-case results."""

    def add(self, run: EvalRun) -> int:
        """Insert a run with all its results (in the caller's transaction); return its id."""

    def get(self, run_id: int) -> EvalRun | None:
        """The run with every per-case result, in suite order."""

    def recent(
        self, suite: str | None = None, version: str | None = None, limit: int = 50
    ) -> list[EvalRun]:
        """Runs newest first, without their per-case results."""


class CatalogRepository(Protocol):
    """Catalog overrides (``turnout catalog update``) and sent deprecation notices."""

    def overrides(self) -> list[CatalogEntry]:
        """Every stored override entry (whole merged entries), by provider and id."""

    def put(self, entry: CatalogEntry, at: datetime, actor: str) -> None:
        """Insert or replace the override of ``entry``'s id (in the caller's transaction)."""

    def claim_notice(self, version: str, threshold_days: int, retires: date, at: datetime) -> bool:
        """Record that a notice is sent; True only for the one caller that recorded it first."""

    def notices(self) -> list[tuple[str, int, date]]:
        """Every notice recorded: (version, threshold in days, retirement date)."""


class UnitOfWork(Protocol):
    @property
    def versions(self) -> VersionRepository: ...

    @property
    def aliases(self) -> AliasRepository: ...

    @property
    def providers(self) -> ProviderRepository: ...

    @property
    def tokens(self) -> TokenRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def rollouts(self) -> RolloutRepository: ...

    @property
    def evals(self) -> EvalRepository: ...

    @property
    def catalog(self) -> CatalogRepository: ...


class RegistryStore(Protocol):
    """A registry database. ``url`` is safe to print (no password)."""

    url: str

    def unit_of_work(self, write: bool = False) -> AbstractContextManager[UnitOfWork]:
        """A transaction; ``write=True`` takes the write lock up front (SQLite IMMEDIATE)."""

    def change_marker(self) -> int:
        """A number that grows with every audited registry write: the 'anything new?' probe."""

    def log_requests(self, records: Sequence[RequestRecord]) -> None:
        """Append gateway requests to the request log (outside the registry's writer lock)."""

    def record_feedback(self, request_id: str, score: float, source: str, at: datetime) -> None:
        """Store one quality score in [0, 1] for a request (outside the writer lock).

        The request need not be in the request log yet: the log is written in
        batches, so feedback may arrive before its request's row does.
        """

    def observe(self, rollout: Rollout, now: datetime) -> Observation:
        """A rollout's traffic so far, read from the request log and feedback."""

    def log_shadow_pairs(self, pairs: Sequence[ShadowPair]) -> None:
        """Append shadow pairs (outside the registry's writer lock, like the request log)."""

    def shadow_pairs(
        self,
        alias: str,
        candidate: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
        source: str | None = None,
    ) -> list[ShadowPair]:
        """The newest ``limit`` pairs of ``alias`` in ``[since, until)``, oldest first."""

    def log_health_events(self, events: Sequence[HealthEvent]) -> None:
        """Append breaker and probe events (outside the registry's writer lock)."""

    def health_events(
        self, version: str | None = None, since: datetime | None = None, limit: int = 50
    ) -> list[HealthEvent]:
        """Health events, newest first."""

    def version_traffic(self, versions: Sequence[str], since: datetime) -> list[VersionTraffic]:
        """Requests, errors and p50/p95 latency per version since ``since`` (request log)."""

    def shadow_counts(self, alias: str, since: datetime | None = None) -> list[ShadowCount]:
        """Per shadow candidate of ``alias``: pairs and failures since ``since``."""

    def close(self) -> None: ...


class ChangeListener(Protocol):
    """Wakes a snapshot feed as soon as the registry may have changed (PostgreSQL LISTEN).

    A hint, never the source of truth: the feed still compares change markers, and
    checks them on a timer too, because notifications sent while nobody listened
    are lost. One listener is one subscription; once it raises
    :class:`~turnout.errors.StoreUnavailable` it is dead, and reconnecting is the
    caller's job (close it, build a new one, re-check the marker).
    """

    async def connect(self) -> None:
        """Subscribe now (``wait`` does it too if needed); raise StoreUnavailable if it cannot."""

    async def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` s; True if a change was signalled (all pending are drained)."""

    async def aclose(self) -> None:
        """Unsubscribe and close; safe to call twice and after a failure."""


class ModelCaller(Protocol):
    """Calls one pinned version directly (no alias, no request log): evals, judges, replay.

    ``version`` must be a registered version; its provider, default params and
    list prices come from the registry. A provider failure is returned as a
    :class:`~turnout.domain.completions.Completion` with ``error`` set, never
    raised, so one bad case never stops a run; an unknown version raises
    :class:`~turnout.errors.NotFound`.
    """

    async def call(
        self,
        version: str,
        messages: Sequence[Message],
        params: Mapping[str, object] | None = None,
        *,
        timeout_s: float = 60.0,
    ) -> Completion: ...

    async def aclose(self) -> None: ...
