"""Lint and test results per notebook version.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checks",
        sa.Column("check_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("notebook", sa.String(1024), nullable=False),
        sa.Column("notebook_version", sa.String(64), nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("config_digest", sa.String(64)),
        sa.Column("run_id", sa.String(40)),
        sa.Column("user", sa.String(255)),
        sa.Column("host", sa.String(255)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_checks_version", "checks", ["notebook_version", "kind"])


def downgrade() -> None:
    op.drop_index("ix_checks_version", "checks")
    op.drop_table("checks")
