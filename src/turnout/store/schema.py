"""The registry's tables (SQLAlchemy Core), shared by SQLite and PostgreSQL.

The tables are the *storage* shape; domain values are mapped to and from rows in
``store/rows.py`` so the domain never sees SQLAlchemy. Alembic migrations under
``store/migrations`` create exactly these tables; a test checks they agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

__all__ = [
    "alias_revisions",
    "aliases",
    "api_tokens",
    "audit_head",
    "audit_log",
    "catalog_overrides",
    "controller_lease",
    "deprecation_notices",
    "eval_results",
    "eval_runs",
    "feedback",
    "health_events",
    "metadata",
    "providers",
    "request_log",
    "rollouts",
    "shadow_pairs",
    "versions",
]


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both databases.

    SQLite has no timezone type and hands back naive values; normalising here
    keeps audit hashes (which cover the timestamp) identical across stores.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

providers = Table(
    "providers",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("base_url", Text),
    Column("api_key_env", String(128)),
    Column("auth", String(16)),
    Column("api_version", String(32)),
)

versions = Table(
    "versions",
    metadata,
    Column("id", String(240), primary_key=True),
    Column("provider", String(32), nullable=False),
    Column("model", String(200), nullable=False),
    Column("params", JSON, nullable=False),
    Column("introduced_at", UtcDateTime, nullable=False),
    Column("introduced_by", String(200), nullable=False),
    Column("promoted_at", UtcDateTime),
    Column("prompt_version", String(128)),
    Column("dataset_version", String(128)),
    Column("eval_scores", JSON, nullable=False),
    Column("known_issues", JSON, nullable=False),
    Column("deprecation_date", Date),
    Column("retirement_date", Date),
    Column("status", String(16), nullable=False),
    Column("floating_allowed", Boolean, nullable=False),
    Column("warnings", JSON, nullable=False),
)

aliases = Table(
    "aliases",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("target", JSON, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("protected", Boolean, nullable=False),
    Column("allow_floating", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(200), nullable=False),
)

alias_revisions = Table(
    "alias_revisions",
    metadata,
    Column("alias", String(63), ForeignKey("aliases.name"), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("action", String(16), nullable=False),
    Column("target", JSON, nullable=False),
    Column("previous", JSON),
    Column("protected", Boolean, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("restored_from", Integer),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("expires_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    Index("ix_api_tokens_name", "name"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(256), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)
"""One row (id=1): the newest audit entry. Locked by every write, so the chain
never forks, and its ``seq`` doubles as the registry's change marker."""

request_log = Table(
    "request_log",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("request_id", String(40), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("alias", String(63)),
    Column("version", String(240), nullable=False),
    Column("arm", String(16), nullable=False),
    Column("key_hash", String(32)),
    Column("status", Integer, nullable=False),
    Column("error_class", String(64)),
    Column("latency_ms", Float, nullable=False),
    Column("ttft_ms", Float),
    Column("tokens_in", Integer),
    Column("tokens_out", Integer),
    Column("cost_usd", Float),
    Column("stream", Boolean, nullable=False),
    Index("ix_request_log_alias_at", "alias", "at"),
    Index("ix_request_log_version_at", "version", "at"),
    Index("ix_request_log_request_id", "request_id"),
)
"""Every gateway request, written in batches off the hot path."""

rollouts = Table(
    "rollouts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alias", String(63), nullable=False),
    Column("stable", String(240), nullable=False),
    Column("candidate", String(240), nullable=False),
    Column("salt", String(32), nullable=False),
    Column("plan", JSON, nullable=False),
    Column("status", String(24), nullable=False),
    Column("step", Integer, nullable=False),
    Column("steps_log", JSON, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("step_started_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("actor", String(120), nullable=False),
    Column("reason", Text),
    Column("evidence", JSON),
    Column("seq", Integer, nullable=False),
    Index("ix_rollouts_alias", "alias", "id"),
)
"""Rollouts, active and finished. ``seq`` counts changes: every controller or
operator write is compare-and-set on it, so a decision is applied exactly once."""

feedback = Table(
    "feedback",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("request_id", String(40), nullable=False),
    Column("score", Float, nullable=False),
    Column("source", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_feedback_request_id", "request_id"),
)
"""Quality scores in [0, 1] for served requests (``POST /v1/feedback``, scorers)."""

eval_runs = Table(
    "eval_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("suite", String(200), nullable=False),
    Column("suite_hash", String(64), nullable=False),
    Column("version", String(240), nullable=False),
    Column("alias", String(63)),
    Column("judge", String(240)),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=False),
    Column("cases", Integer, nullable=False),
    Column("mean_score", Float, nullable=False),
    Column("passed", Integer, nullable=False),
    Column("pass_rate", Float, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("total_cost_usd", Float),
    Column("threshold", Float, nullable=False),
    Index("ix_eval_runs_suite", "suite", "id"),
    Index("ix_eval_runs_version", "version", "id"),
)
"""Eval runs: a suite (name and content hash) run against one version, and its summary."""

eval_results = Table(
    "eval_results",
    metadata,
    Column("run_id", Integer, ForeignKey("eval_runs.id"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("case_id", String(200), nullable=False),
    Column("answer", Text, nullable=False),
    Column("scores", JSON, nullable=False),
    Column("score", Float, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("ttft_ms", Float),
    Column("tokens_in", Integer),
    Column("tokens_out", Integer),
    Column("cost_usd", Float),
    Column("error", Text),
)
"""One row per case of an eval run, in suite order: the answer and every scorer's score."""

controller_lease = Table(
    "controller_lease",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(120), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
"""Leader election where advisory locks do not exist (SQLite): a lease row."""


def _side_columns(side: str) -> list[Column[object]]:
    """One side of a shadow pair (``primary`` or ``candidate``): output and cost."""
    return [
        Column(f"{side}_version", String(240), nullable=False),
        Column(f"{side}_text", Text, nullable=False),
        Column(f"{side}_latency_ms", Float, nullable=False),
        Column(f"{side}_ttft_ms", Float),
        Column(f"{side}_tokens_in", Integer),
        Column(f"{side}_tokens_out", Integer),
        Column(f"{side}_cost_usd", Float),
        Column(f"{side}_error", Text),
    ]


shadow_pairs = Table(
    "shadow_pairs",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("request_id", String(40), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("alias", String(63), nullable=False),
    Column("source", String(16), nullable=False),
    Column("stream", Boolean, nullable=False),
    Column("messages", JSON, nullable=False),
    Column("params", JSON, nullable=False),
    *_side_columns("primary"),
    *_side_columns("candidate"),
    Index("ix_shadow_pairs_alias_candidate_at", "alias", "candidate_version", "at"),
    Index("ix_shadow_pairs_request_id", "request_id"),
)
"""Shadowed requests: the prompt, the answer served and the candidate's, side by side.

Prompts and answers are stored in full (comparators and replays need them), so
this table holds user content: retention is the operator's to set.
"""

catalog_overrides = Table(
    "catalog_overrides",
    metadata,
    Column("provider", String(32), primary_key=True),
    Column("model_id", String(200), primary_key=True),
    Column("family", String(200), nullable=False),
    Column("pinned", Boolean, nullable=False),
    Column("points_to", String(200)),
    Column("released", Date),
    Column("deprecated", Date),
    Column("retires", Date),
    Column("replacement", Text),
    Column("price_in_per_mtok", Float),
    Column("price_out_per_mtok", Float),
    Column("source", Text),
    Column("checked", Date),
    Column("note", Text),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(200), nullable=False),
)
"""Catalog entries merged in by ``turnout catalog update``, whole (the merged entry).

The effective catalog is the bundled file with these merged over it, by the
same rules as the update (``turnout.domain.catalog_merge``)."""

deprecation_notices = Table(
    "deprecation_notices",
    metadata,
    Column("version", String(240), primary_key=True),
    Column("threshold_days", Integer, primary_key=True, autoincrement=False),
    Column("retires", Date, primary_key=True),
    Column("sent_at", UtcDateTime, nullable=False),
)
"""One row per (version, threshold, retirement date) a webhook notice was sent for:
inserted in the transaction that decides to send, so replicas and restarts send once.
A new retirement date (the provider moved it) is news, and gets notices of its own."""

health_events = Table(
    "health_events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", UtcDateTime, nullable=False),
    Column("version", String(240), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Column("source", String(120), nullable=False),
    Index("ix_health_events_version_at", "version", "at"),
    Index("ix_health_events_at", "at"),
)
"""Breaker state changes (each gateway's) and probe verdicts (the controller's)."""
