"""Monitoring: data profiles recorded by runs, monitor verdicts and alerts.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("columns", sa.Integer, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("checks", sa.JSON, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "monitor_verdicts",
        sa.Column("verdict_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job", sa.String(100), nullable=False),
        sa.Column("stage", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("job_run_id", sa.String(40)),
        sa.Column("reference_job_run_id", sa.String(40)),
        sa.Column("drifted", sa.Boolean, nullable=False),
        sa.Column("decayed", sa.Boolean, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("user", sa.String(255)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_monitor_verdicts_job", "monitor_verdicts", ["job"])
    op.create_index("ix_monitor_verdicts_job_run_id", "monitor_verdicts", ["job_run_id"])
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("job", sa.String(100)),
        sa.Column("stage", sa.String(100)),
        sa.Column("version", sa.Integer),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("deliveries", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_alerts_key", "alerts", ["key"])
    op.create_index("ix_alerts_job", "alerts", ["job"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("monitor_verdicts")
    op.drop_table("profiles")
