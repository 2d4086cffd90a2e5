"""Run listing: composite indexes so filtered, cursor-paged run lists stay fast.

The dashboard lists runs newest first (``ORDER BY run_id DESC``) filtered by notebook, state
or user, a page at a time after a cursor (``run_id < :cursor``). An index on ``(column,
run_id)`` answers each of those without sorting; it replaces the single-column indexes on
``notebook`` and ``state`` (their prefix).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_notebook")
        batch.drop_index("ix_runs_state")
        batch.create_index("ix_runs_notebook_run_id", ["notebook", "run_id"])
        batch.create_index("ix_runs_state_run_id", ["state", "run_id"])
        batch.create_index("ix_runs_user_run_id", ["user", "run_id"])


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_user_run_id")
        batch.drop_index("ix_runs_state_run_id")
        batch.drop_index("ix_runs_notebook_run_id")
        batch.create_index("ix_runs_state", ["state"])
        batch.create_index("ix_runs_notebook", ["notebook"])
