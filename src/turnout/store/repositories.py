"""SQL implementations of the repository ports, over one open connection.

Every method runs inside the caller's transaction (see ``SqlStore.unit_of_work``);
nothing here commits. Compare-and-set and the audit chain's serialisation are the
two places where correctness under concurrency is decided, and both are here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from turnout.domain.access import ApiToken, Role
from turnout.domain.aliases import Alias, AliasRevision
from turnout.domain.audit import AuditEntry, JsonValue, entry_hash
from turnout.domain.ids import VersionId
from turnout.domain.providers import ProviderConfig
from turnout.domain.versions import Version
from turnout.errors import Conflict, NotFound
from turnout.store import rows
from turnout.store.catalog_repository import SqlCatalog
from turnout.store.eval_repository import SqlEvals
from turnout.store.rollout_repository import SqlRollouts
from turnout.store.schema import (
    alias_revisions,
    aliases,
    api_tokens,
    audit_head,
    audit_log,
    providers,
    versions,
)

__all__ = [
    "NOTIFY_CHANNEL",
    "SqlAliases",
    "SqlAudit",
    "SqlProviders",
    "SqlTokens",
    "SqlUnitOfWork",
    "SqlVersions",
]

NOTIFY_CHANNEL = "turnout_registry"
"""PostgreSQL LISTEN/NOTIFY channel signalled (at commit) by every registry write."""


class SqlVersions:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, version_id: VersionId) -> Version | None:
        row = self._conn.execute(select(versions).where(versions.c.id == str(version_id))).first()
        return rows.version_from_row(row._mapping) if row else None

    def all(self) -> list[Version]:
        result = self._conn.execute(select(versions).order_by(versions.c.id))
        return [rows.version_from_row(row._mapping) for row in result]

    def add(self, version: Version) -> None:
        if self.get(version.id) is not None:
            raise Conflict(f"version {version.id} is already registered")
        try:
            with self._conn.begin_nested():
                self._conn.execute(insert(versions).values(rows.version_row(version)))
        except IntegrityError as exc:
            raise Conflict(f"version {version.id} was registered concurrently") from exc

    def update(self, version: Version) -> None:
        values = rows.version_row(version)
        result = self._conn.execute(
            update(versions).where(versions.c.id == values.pop("id")).values(values)
        )
        if result.rowcount != 1:
            raise NotFound(f"version {version.id} is not registered")


class SqlAliases:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, name: str) -> Alias | None:
        row = self._conn.execute(select(aliases).where(aliases.c.name == name)).first()
        return rows.alias_from_row(row._mapping) if row else None

    def all(self) -> list[Alias]:
        result = self._conn.execute(select(aliases).order_by(aliases.c.name))
        return [rows.alias_from_row(row._mapping) for row in result]

    def history(self, name: str) -> list[AliasRevision]:
        result = self._conn.execute(
            select(alias_revisions)
            .where(alias_revisions.c.alias == name)
            .order_by(alias_revisions.c.revision)
        )
        return [rows.revision_from_row(row._mapping) for row in result]

    def write(self, alias: Alias, revision: AliasRevision, expected_revision: int) -> None:
        values = rows.alias_row(alias)
        if expected_revision == 0:
            try:
                with self._conn.begin_nested():
                    self._conn.execute(insert(aliases).values(values))
            except IntegrityError as exc:
                raise Conflict(
                    f"alias '{alias.name}' was created concurrently; re-read it and retry"
                ) from exc
        else:
            name = values.pop("name")
            result = self._conn.execute(
                update(aliases)
                .where(aliases.c.name == name, aliases.c.revision == expected_revision)
                .values(values)
            )
            if result.rowcount != 1:
                now_at = self._conn.execute(
                    select(aliases.c.revision).where(aliases.c.name == name)
                ).scalar()
                raise Conflict(
                    f"alias '{name}' changed concurrently: expected revision {expected_revision}, "
                    f"it is now at {now_at}; re-read it and retry"
                )
        self._conn.execute(insert(alias_revisions).values(rows.revision_row(revision)))


class SqlProviders:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, name: str) -> ProviderConfig | None:
        row = self._conn.execute(select(providers).where(providers.c.name == name)).first()
        return rows.provider_from_row(row._mapping) if row else None

    def all(self) -> list[ProviderConfig]:
        result = self._conn.execute(select(providers).order_by(providers.c.name))
        return [rows.provider_from_row(row._mapping) for row in result]

    def put(self, config: ProviderConfig) -> None:
        values = rows.provider_row(config)
        updated = self._conn.execute(
            update(providers).where(providers.c.name == config.name).values(values)
        )
        if updated.rowcount == 0:
            self._conn.execute(insert(providers).values(values))


class SqlTokens:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

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
        active = self._conn.execute(
            select(api_tokens.c.id).where(
                api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None)
            )
        ).first()
        if active is not None:
            raise Conflict(f"an active token named '{name}' exists; revoke it or pick another name")
        token_id = self._conn.execute(
            insert(api_tokens)
            .values(
                name=name,
                role=role.value,
                prefix=prefix,
                token_hash=token_hash,
                created_at=created_at,
                created_by=created_by,
                expires_at=expires_at,
            )
            .returning(api_tokens.c.id)
        ).scalar_one()
        return ApiToken(token_id, name, role, prefix, created_at, created_by, expires_at)

    def by_hash(self, token_hash: str) -> ApiToken | None:
        row = self._conn.execute(
            select(api_tokens).where(api_tokens.c.token_hash == token_hash)
        ).first()
        return rows.token_from_row(row._mapping) if row else None

    def find(self, name_or_id: str) -> ApiToken | None:
        query = select(api_tokens).order_by(api_tokens.c.id.desc())
        if name_or_id.isdigit():
            query = query.where(api_tokens.c.id == int(name_or_id))
        else:
            query = query.where(api_tokens.c.name == name_or_id)
        row = self._conn.execute(query).first()
        return rows.token_from_row(row._mapping) if row else None

    def all(self) -> list[ApiToken]:
        result = self._conn.execute(select(api_tokens).order_by(api_tokens.c.id))
        return [rows.token_from_row(row._mapping) for row in result]

    def revoke(self, token_id: int, at: datetime) -> None:
        self._conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )


class SqlAudit:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def append(
        self, at: datetime, actor: str, action: str, subject: str, detail: dict[str, JsonValue]
    ) -> AuditEntry:
        # The hash covers the timestamp's text, and the store hands every timestamp
        # back as UTC: hash the UTC form, or a non-UTC ``at`` breaks the chain on read.
        at = at.astimezone(UTC) if at.tzinfo is not None else at
        # FOR UPDATE serialises appenders on PostgreSQL (SQLite writers are
        # already serialised by BEGIN IMMEDIATE), so the chain never forks.
        head = self._conn.execute(
            select(audit_head.c.seq, audit_head.c.hash)
            .where(audit_head.c.id == 1)
            .with_for_update()
        ).one()
        seq = head.seq + 1
        digest = entry_hash(seq, at, actor, action, subject, detail, head.hash)
        entry = AuditEntry(seq, at, actor, action, subject, detail, head.hash, digest)
        self._conn.execute(
            insert(audit_log).values(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                subject=subject,
                detail=detail,
                prev_hash=head.hash,
                hash=digest,
            )
        )
        self._conn.execute(
            update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=digest)
        )
        if self._conn.dialect.name == "postgresql":
            self._conn.execute(
                text("SELECT pg_notify(:channel, :seq)"),
                {"channel": NOTIFY_CHANNEL, "seq": str(seq)},
            )
        return entry

    def entries(
        self,
        after_seq: int = 0,
        limit: int | None = None,
        newest_first: bool = False,
        subject: str | None = None,
        action_prefix: str | None = None,
    ) -> list[AuditEntry]:
        order = audit_log.c.seq.desc() if newest_first else audit_log.c.seq
        query = select(audit_log).where(audit_log.c.seq > after_seq).order_by(order).limit(limit)
        if subject is not None:
            query = query.where(audit_log.c.subject == subject)
        if action_prefix:  # LIKE with % and _ escaped: the prefix is matched literally
            query = query.where(audit_log.c.action.startswith(action_prefix, autoescape=True))
        return [rows.audit_from_row(row._mapping) for row in self._conn.execute(query)]

    def iterate(self) -> Iterator[AuditEntry]:
        # yield_per on the statement, not the connection (Connection.execution_options
        # changes the connection in place, streaming every later query of the unit of
        # work); close the result even when the caller stops early (verify stops at
        # the first break), or PostgreSQL's server-side cursor is left open.
        query = select(audit_log).order_by(audit_log.c.seq).execution_options(yield_per=1000)
        result = self._conn.execute(query)
        try:
            for row in result:
                yield rows.audit_from_row(row._mapping)
        finally:
            result.close()

    def head(self) -> tuple[int, str] | None:
        row = self._conn.execute(select(audit_head.c.seq, audit_head.c.hash)).first()
        return (row.seq, row.hash) if row else None


class SqlUnitOfWork:
    """The repositories of one transaction."""

    def __init__(self, conn: Connection) -> None:
        self.connection = conn
        self.versions = SqlVersions(conn)
        self.aliases = SqlAliases(conn)
        self.providers = SqlProviders(conn)
        self.tokens = SqlTokens(conn)
        self.audit = SqlAudit(conn)
        self.rollouts = SqlRollouts(conn)
        self.evals = SqlEvals(conn)
        self.catalog = SqlCatalog(conn)
