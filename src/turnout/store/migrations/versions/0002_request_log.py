"""The request log: every gateway request's alias, version, arm, outcome and cost.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from turnout.store.schema import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("request_id", sa.String(40), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("alias", sa.String(63)),
        sa.Column("version", sa.String(240), nullable=False),
        sa.Column("arm", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(32)),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("error_class", sa.String(64)),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("ttft_ms", sa.Float),
        sa.Column("tokens_in", sa.Integer),
        sa.Column("tokens_out", sa.Integer),
        sa.Column("cost_usd", sa.Float),
        sa.Column("stream", sa.Boolean, nullable=False),
    )
    op.create_index("ix_request_log_alias_at", "request_log", ["alias", "at"])
    op.create_index("ix_request_log_version_at", "request_log", ["version", "at"])
    op.create_index("ix_request_log_request_id", "request_log", ["request_id"])
