"""The registry: runs, values, artifacts and lineage in SQLite (default) or PostgreSQL."""

from __future__ import annotations

from .runs import Registry, RunnerIdentity

__all__ = ["Registry", "RunnerIdentity"]
