"""Audit rows keep the operating-system user and the user NBPROD_USER claimed.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("os_user", sa.String(255)))
        batch.add_column(sa.Column("claimed_user", sa.String(255)))


def downgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("claimed_user")
        batch.drop_column("os_user")
