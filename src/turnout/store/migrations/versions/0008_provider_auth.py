"""Provider auth style and API version (Azure OpenAI's classic deployments API).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: NULL is the kind's default (bearer auth, no api-version), so
    # every provider stored before this revision keeps meaning what it meant
    with op.batch_alter_table("providers") as batch:
        batch.add_column(sa.Column("auth", sa.String(16)))
        batch.add_column(sa.Column("api_version", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.drop_column("api_version")
        batch.drop_column("auth")
