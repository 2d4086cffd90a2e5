"""Alembic environment: always run on the connection nbprod passes in (under its lock)."""

from __future__ import annotations

from alembic import context

from nbprod.registry.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - nbprod always passes one
    raise RuntimeError("nbprod migrations run through nbprod.registry.db.migrate()")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
