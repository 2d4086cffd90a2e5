"""Checks: each result's digest, and an index that finds a version's latest result.

``nbprod lint`` leaves out a result equal to the latest one recorded for its notebook version,
kind and settings digest (the one the promotion gates read), so re-linting an unchanged
folder without the cache does not add a row per notebook each time. ``result_digest`` says
what a result says (NULL in rows written before); the index on ``(notebook_version, kind,
config_digest, check_id, result_digest)`` answers "the latest result's digest" for each
version from the index alone, without reading any row's JSON details. It replaces
``ix_checks_version`` (its prefix).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("checks") as batch:
        batch.add_column(sa.Column("result_digest", sa.String(64)))
        batch.drop_index("ix_checks_version")
        batch.create_index("ix_checks_latest", ["notebook_version", "kind", "config_digest",
                                                "check_id", "result_digest"])


def downgrade() -> None:
    with op.batch_alter_table("checks") as batch:
        batch.drop_index("ix_checks_latest")
        batch.create_index("ix_checks_version", ["notebook_version", "kind"])
        batch.drop_column("result_digest")
