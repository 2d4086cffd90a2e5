"""The registry: runs, values, artifacts and lineage in SQLite (default) or PostgreSQL."""

from __future__ import annotations

from ..records import RunnerIdentity
from .runs import Registry

__all__ = ["Registry", "RunnerIdentity"]
