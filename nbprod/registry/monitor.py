"""Profiles recorded by runs, monitor verdicts and alerts in the registry.

Profiles are written with their run's final state (``Registry.finish_run``, one transaction)
and never change. Verdicts are appended. An alert row is written before delivery
(``pending``) and updated once with the outcome, so an alert whose sender died stays visible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from ..records import AlertRecord, MonitorVerdict, ProfileRecord
from . import db
from .schema import alerts, monitor_verdicts, profiles

_Record = TypeVar("_Record", MonitorVerdict, AlertRecord)


def insert_profiles(conn: Connection, records: Sequence[ProfileRecord]) -> None:
    """Insert a run's profiles inside the transaction that finishes the run."""
    if records:
        conn.execute(profiles.insert(), [{
            "run_id": p.run_id, "name": p.name, "rows": p.rows, "columns": p.columns,
            "summary": p.summary, "checks": list(p.checks), "passed": p.passed,
            "sha256": p.sha256} for p in records])


class MonitorStore:
    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    # -- profiles --------------------------------------------------------------------------

    def profiles(self, run_ids: Iterable[str]) -> list[ProfileRecord]:
        """Profiles recorded by these runs, by run id then name."""
        ids = list(run_ids)
        if not ids:
            return []
        with db.reading(self.engine, self.url) as conn:
            rows = conn.execute(sa.select(profiles).where(profiles.c.run_id.in_(ids))
                                .order_by(profiles.c.run_id, profiles.c.name)).all()
        return [_profile(r) for r in rows]

    # -- verdicts --------------------------------------------------------------------------

    def add_verdict(self, verdict: MonitorVerdict) -> MonitorVerdict:
        with db.writing(self.engine, self.url) as conn:
            result = conn.execute(monitor_verdicts.insert().values(
                job=verdict.job, stage=verdict.stage, version=verdict.version,
                job_run_id=verdict.job_run_id,
                reference_job_run_id=verdict.reference_job_run_id, drifted=verdict.drifted,
                decayed=verdict.decayed, summary=verdict.summary, details=verdict.details,
                user=verdict.user, created_at=verdict.created_at))
            verdict_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        return _replace(verdict, verdict_id=verdict_id)

    def verdicts(self, job: str | None = None, *, stage: str | None = None,
                 job_run_ids: Iterable[str] | None = None,
                 limit: int = 50) -> list[MonitorVerdict]:
        """Verdicts, newest first."""
        query = sa.select(monitor_verdicts).order_by(
            monitor_verdicts.c.verdict_id.desc()).limit(limit)
        if job is not None:
            query = query.where(monitor_verdicts.c.job == job)
        if stage is not None:
            query = query.where(monitor_verdicts.c.stage == stage)
        if job_run_ids is not None:
            query = query.where(monitor_verdicts.c.job_run_id.in_(list(job_run_ids)))
        with db.reading(self.engine, self.url) as conn:
            return [_verdict(r) for r in conn.execute(query).all()]

    # -- alerts ----------------------------------------------------------------------------

    def add_alert(self, alert: AlertRecord) -> AlertRecord:
        with db.writing(self.engine, self.url) as conn:
            result = conn.execute(alerts.insert().values(
                key=alert.key[:255], event=alert.event, job=alert.job, stage=alert.stage,
                version=alert.version, title=alert.title, payload=alert.payload,
                status=alert.status, deliveries=list(alert.deliveries),
                created_at=alert.created_at))
            alert_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        return _replace(alert, alert_id=alert_id)

    def finish_alert(self, alert_id: int, status: str,
                     deliveries: Sequence[dict[str, Any]]) -> None:
        with db.writing(self.engine, self.url) as conn:
            conn.execute(alerts.update().where(alerts.c.alert_id == alert_id)
                         .values(status=status, deliveries=list(deliveries)))

    def last_alert(self, key: str, statuses: Sequence[str],
                   since: dt.datetime) -> AlertRecord | None:
        """The newest alert with ``key`` in one of ``statuses`` created after ``since``."""
        with db.reading(self.engine, self.url) as conn:
            row = conn.execute(sa.select(alerts).where(
                alerts.c.key == key[:255], alerts.c.status.in_(list(statuses)),
                alerts.c.created_at >= since).order_by(alerts.c.alert_id.desc())
                .limit(1)).first()
        return _alert(row) if row is not None else None

    def alerts(self, job: str | None = None, *, status: str | None = None,
               limit: int = 50) -> list[AlertRecord]:
        """Alerts, newest first."""
        query = sa.select(alerts).order_by(alerts.c.alert_id.desc()).limit(limit)
        if job is not None:
            query = query.where(alerts.c.job == job)
        if status is not None:
            query = query.where(alerts.c.status == status)
        with db.reading(self.engine, self.url) as conn:
            return [_alert(r) for r in conn.execute(query).all()]


def _replace(record: _Record, **changes: Any) -> _Record:
    import dataclasses

    return dataclasses.replace(record, **changes)


def _profile(row: Row[Any]) -> ProfileRecord:
    return ProfileRecord(run_id=row.run_id, name=row.name, rows=row.rows, columns=row.columns,
                         summary=dict(row.summary or {}), checks=list(row.checks or []),
                         passed=bool(row.passed), sha256=row.sha256)


def _verdict(row: Row[Any]) -> MonitorVerdict:
    return MonitorVerdict(job=row.job, stage=row.stage, version=row.version,
                          job_run_id=row.job_run_id,
                          reference_job_run_id=row.reference_job_run_id,
                          drifted=bool(row.drifted), decayed=bool(row.decayed),
                          summary=row.summary, details=dict(row.details or {}), user=row.user,
                          created_at=db.aware(row.created_at), verdict_id=row.verdict_id)


def _alert(row: Row[Any]) -> AlertRecord:
    return AlertRecord(key=row.key, event=row.event, title=row.title,
                       payload=dict(row.payload or {}), status=row.status,
                       deliveries=list(row.deliveries or []), job=row.job, stage=row.stage,
                       version=row.version, created_at=db.aware(row.created_at),
                       alert_id=row.alert_id)
