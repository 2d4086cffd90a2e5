"""Lint and test results in the registry, looked up by notebook version."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from ..records import CheckRecord
from . import db
from .schema import checks


class CheckStore:
    """Appends check results; never updates them."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    def add(self, records: Sequence[CheckRecord]) -> None:
        """Insert results in one transaction."""
        if not records:
            return
        with db.writing(self.engine, self.url) as conn:
            conn.execute(checks.insert(), [{
                "kind": r.kind, "notebook": r.notebook, "notebook_version": r.notebook_version,
                "passed": r.passed, "summary": r.summary, "details": r.details,
                "config_digest": r.config_digest, "run_id": r.run_id, "user": r.user,
                "host": r.host, "created_at": r.created_at} for r in records])

    def for_version(self, notebook_version: str, kind: str | None = None) -> list[CheckRecord]:
        """Results for one notebook version, newest first."""
        query = sa.select(checks).where(checks.c.notebook_version == notebook_version)
        if kind:
            query = query.where(checks.c.kind == kind)
        with db.reading(self.engine, self.url) as conn:
            rows = conn.execute(query.order_by(checks.c.check_id.desc())).all()
        return [_record(row) for row in rows]

    def latest(self, *, notebook: str | None = None, kind: str | None = None,
               limit: int = 50) -> list[CheckRecord]:
        query = sa.select(checks).order_by(checks.c.check_id.desc()).limit(limit)
        if notebook:
            query = query.where(checks.c.notebook == notebook)
        if kind:
            query = query.where(checks.c.kind == kind)
        with db.reading(self.engine, self.url) as conn:
            rows = conn.execute(query).all()
        return [_record(row) for row in rows]


def _record(row: Row) -> CheckRecord:  # type: ignore[type-arg]
    created = db.aware(row.created_at)
    return CheckRecord(kind=row.kind, notebook=row.notebook,
                       notebook_version=row.notebook_version, passed=row.passed,
                       summary=row.summary, details=dict(row.details or {}),
                       config_digest=row.config_digest, run_id=row.run_id, user=row.user,
                       host=row.host, created_at=created, check_id=row.check_id)
