"""Jobs: versions, job runs, stage pointers, approvals, audit; runs know their job and step.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("job_run_id", sa.String(40)))
        batch.add_column(sa.Column("step", sa.String(100)))
        batch.add_column(sa.Column("upstream", sa.JSON))
        batch.create_index("ix_runs_job_run_id", ["job_run_id"])
    op.create_table(
        "job_versions",
        sa.Column("job", sa.String(100), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("manifest", sa.JSON, nullable=False),
        sa.Column("built_by", sa.String(255), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("job", "digest", name="uq_job_versions_digest"),
    )
    op.create_table(
        "job_runs",
        sa.Column("job_run_id", sa.String(40), primary_key=True),
        sa.Column("job", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("stage", sa.String(100)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("failure", sa.JSON),
        sa.Column("steps", sa.JSON, nullable=False),
        sa.Column("resumed_from", sa.String(40)),
        sa.Column("user", sa.String(255)),
        sa.Column("host", sa.String(255)),
        sa.Column("runner_pid", sa.Integer),
        sa.Column("runner_start", sa.String(32)),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_job_runs_job", "job_runs", ["job"])
    op.create_table(
        "stages",
        sa.Column("job", sa.String(100), primary_key=True),
        sa.Column("stage", sa.String(100), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("moved_by", sa.String(255), nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "approvals",
        sa.Column("job", sa.String(100), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("stage", sa.String(100), primary_key=True),
        sa.Column("approver", sa.String(255), primary_key=True),
        sa.Column("comment", sa.Text),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("job", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("stage", sa.String(100)),
        sa.Column("from_version", sa.Integer),
        sa.Column("to_version", sa.Integer),
        sa.Column("forced", sa.Boolean, nullable=False),
        sa.Column("gates", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_audit_job", "audit", ["job"])


def downgrade() -> None:
    op.drop_index("ix_audit_job", "audit")
    op.drop_index("ix_job_runs_job", "job_runs")
    for table in ("audit", "approvals", "stages", "job_runs", "job_versions"):
        op.drop_table(table)
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_job_run_id")
        batch.drop_column("upstream")
        batch.drop_column("step")
        batch.drop_column("job_run_id")
