"""Runs, their values and artifacts, and environments.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(40), primary_key=True),
        sa.Column("notebook", sa.String(1024), nullable=False),
        sa.Column("notebook_version", sa.String(64)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("failure", sa.JSON),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("contract", sa.JSON, nullable=False),
        sa.Column("git_commit", sa.String(64)),
        sa.Column("git_dirty", sa.Boolean),
        sa.Column("environment_digest", sa.String(64)),
        sa.Column("python", sa.String(32)),
        sa.Column("input_digests", sa.JSON, nullable=False),
        sa.Column("kernel", sa.String(255)),
        sa.Column("user", sa.String(255)),
        sa.Column("host", sa.String(255)),
        sa.Column("runner_pid", sa.Integer),
        sa.Column("runner_start", sa.String(32)),
        sa.Column("run_key", sa.String(64)),
        sa.Column("note", sa.Text),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_runs_notebook", "runs", ["notebook"])
    op.create_index("ix_runs_state", "runs", ["state"])
    op.create_index("ix_runs_run_key", "runs", ["run_key"])
    op.create_table(
        "run_values",
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("value", sa.JSON),
        sa.Column("number", sa.Float),
    )
    op.create_table(
        "run_artifacts",
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("name", sa.String(512), primary_key=True),
        sa.Column("key", sa.String(600), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "environments",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("python", sa.String(32), nullable=False),
        sa.Column("packages", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("environments")
    op.drop_table("run_artifacts")
    op.drop_table("run_values")
    op.drop_table("runs")
