"""Lint and test results in the registry, looked up by notebook version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from ..records import CheckRecord
from . import db
from .rows import _CHUNK  # bound parameters per IN (...) list, as the run listing
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
            conn.execute(checks.insert(), _rows(records))

    def latest_digests(self, kind: str, config_digest: str | None,
                       versions: Sequence[str]) -> dict[str, str | None]:
        """The ``result_digest`` of each version's latest result of ``kind`` under the
        settings ``config_digest`` (versions without one are left out; None: a row written
        before digests were). Read from an index, not from the rows."""
        same_settings = checks.c.config_digest.is_(None) if config_digest is None else \
            checks.c.config_digest == config_digest
        latest: dict[str, tuple[int, str | None]] = {}
        with db.reading(self.engine, self.url) as conn:
            for start in range(0, len(versions), _CHUNK):
                query = sa.select(checks.c.notebook_version, checks.c.check_id,
                                  checks.c.result_digest).where(
                    checks.c.kind == kind, same_settings,
                    checks.c.notebook_version.in_(versions[start:start + _CHUNK]))
                for version, check_id, digest in conn.execute(query):
                    seen = latest.get(version)
                    if seen is None or check_id > seen[0]:
                        latest[version] = check_id, digest
        return {version: digest for version, (_id, digest) in latest.items()}

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
                       host=row.host, created_at=created, check_id=row.check_id,
                       result_digest=row.result_digest)


def _rows(records: Sequence[CheckRecord]) -> list[dict[str, Any]]:
    return [{"kind": r.kind, "notebook": r.notebook, "notebook_version": r.notebook_version,
             "passed": r.passed, "summary": r.summary, "details": r.details,
             "config_digest": r.config_digest, "run_id": r.run_id, "user": r.user,
             "host": r.host, "created_at": r.created_at, "result_digest": r.result_digest}
            for r in records]
