"""Eval runs and their per-case results.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from turnout.store.schema import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eval_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("suite", sa.String(200), nullable=False),
        sa.Column("suite_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.String(240), nullable=False),
        sa.Column("alias", sa.String(63)),
        sa.Column("judge", sa.String(240)),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime, nullable=False),
        sa.Column("cases", sa.Integer, nullable=False),
        sa.Column("mean_score", sa.Float, nullable=False),
        sa.Column("passed", sa.Integer, nullable=False),
        sa.Column("pass_rate", sa.Float, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("total_cost_usd", sa.Float),
        sa.Column("threshold", sa.Float, nullable=False),
    )
    op.create_index("ix_eval_runs_suite", "eval_runs", ["suite", "id"])
    op.create_index("ix_eval_runs_version", "eval_runs", ["version", "id"])
    op.create_table(
        "eval_results",
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("eval_runs.id", name="fk_eval_results_run_id_eval_runs"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("scores", sa.JSON, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("ttft_ms", sa.Float),
        sa.Column("tokens_in", sa.Integer),
        sa.Column("tokens_out", sa.Integer),
        sa.Column("cost_usd", sa.Float),
        sa.Column("error", sa.Text),
    )
