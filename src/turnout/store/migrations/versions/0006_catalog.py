"""Catalog overrides (``turnout catalog update``) and sent deprecation notices.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from turnout.store.schema import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_overrides",
        sa.Column("provider", sa.String(32), primary_key=True),
        sa.Column("model_id", sa.String(200), primary_key=True),
        sa.Column("family", sa.String(200), nullable=False),
        sa.Column("pinned", sa.Boolean, nullable=False),
        sa.Column("points_to", sa.String(200)),
        sa.Column("released", sa.Date),
        sa.Column("deprecated", sa.Date),
        sa.Column("retires", sa.Date),
        sa.Column("replacement", sa.Text),
        sa.Column("price_in_per_mtok", sa.Float),
        sa.Column("price_out_per_mtok", sa.Float),
        sa.Column("source", sa.Text),
        sa.Column("checked", sa.Date),
        sa.Column("note", sa.Text),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "deprecation_notices",
        sa.Column("version", sa.String(240), primary_key=True),
        sa.Column("threshold_days", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("retires", sa.Date, primary_key=True),
        sa.Column("sent_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deprecation_notices")
    op.drop_table("catalog_overrides")
