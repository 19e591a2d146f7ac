"""Shadow pairs: the primary's and a shadow candidate's answers to the same request.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from turnout.store.schema import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _side(side: str) -> list[sa.Column[object]]:
    return [
        sa.Column(f"{side}_version", sa.String(240), nullable=False),
        sa.Column(f"{side}_text", sa.Text, nullable=False),
        sa.Column(f"{side}_latency_ms", sa.Float, nullable=False),
        sa.Column(f"{side}_ttft_ms", sa.Float),
        sa.Column(f"{side}_tokens_in", sa.Integer),
        sa.Column(f"{side}_tokens_out", sa.Integer),
        sa.Column(f"{side}_cost_usd", sa.Float),
        sa.Column(f"{side}_error", sa.Text),
    ]


def upgrade() -> None:
    op.create_table(
        "shadow_pairs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("request_id", sa.String(40), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("alias", sa.String(63), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("stream", sa.Boolean, nullable=False),
        sa.Column("messages", sa.JSON, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        *_side("primary"),
        *_side("candidate"),
    )
    op.create_index(
        "ix_shadow_pairs_alias_candidate_at",
        "shadow_pairs",
        ["alias", "candidate_version", "at"],
    )
    op.create_index("ix_shadow_pairs_request_id", "shadow_pairs", ["request_id"])


def downgrade() -> None:
    op.drop_table("shadow_pairs")
