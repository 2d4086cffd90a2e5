"""Job versions, job runs, stage pointers, approvals and the audit log.

Version numbers and stage moves are compare-and-swap: a version is the next integer only if
nobody took it (and the same content gets its existing number back); a stage moves only if its
revision is still the one the mover read. The audit row of a move, approval or refusal is
written in the same transaction as the change it records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from ..errors import Conflict, NotFound
from ..records import (
    AuditEntry,
    Failure,
    JobRun,
    JobVersion,
    RunnerIdentity,
    StagePointer,
    StepResult,
    utcnow,
)
from . import db
from .schema import approvals, audit, job_runs, job_versions, stages


class JobStore:
    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    # -- versions --------------------------------------------------------------------------

    def add_version(self, job: str, digest: str, manifest: dict[str, Any],
                    built_by: str, *, os_user: str | None = None,
                    claimed_user: str | None = None) -> tuple[JobVersion, bool]:
        """The version holding ``digest``: the existing one, or the next number (created)."""
        for _attempt in range(5):
            existing = self.version_by_digest(job, digest)
            if existing is not None:
                return existing, False
            try:
                with db.writing(self.engine, self.url) as conn:
                    if _by_digest(conn, job, digest) is not None:
                        continue
                    number = (conn.execute(sa.select(sa.func.max(job_versions.c.version))
                                           .where(job_versions.c.job == job)).scalar() or 0) + 1
                    now = utcnow()
                    conn.execute(job_versions.insert().values(
                        job=job, version=number, digest=digest,
                        manifest={**manifest, "version": number}, built_by=built_by,
                        built_at=now))
                    _audit(conn, AuditEntry(at=now, user=built_by, action="build", outcome="ok",
                                            job=job, version=number, to_version=number,
                                            os_user=os_user, claimed_user=claimed_user))
                return self.version(job, number), True
            except db.DuplicateKey:  # a concurrent build took the number: read again
                continue
        raise Conflict(f"could not allocate a version of job {job}: too much contention")

    def version(self, job: str, version: int) -> JobVersion:
        with db.reading(self.engine, self.url) as conn:
            row = conn.execute(sa.select(job_versions).where(
                job_versions.c.job == job, job_versions.c.version == version)).first()
        if row is None:
            raise NotFound(f"job {job} has no version {version}",
                           hint=f"`nbprod job versions {job}` lists them")
        return _version(row)

    def version_by_digest(self, job: str, digest: str) -> JobVersion | None:
        with db.reading(self.engine, self.url) as conn:
            row = _by_digest(conn, job, digest)
        return _version(row) if row is not None else None

    def versions(self, job: str) -> list[JobVersion]:
        with db.reading(self.engine, self.url) as conn:
            rows = conn.execute(sa.select(job_versions).where(job_versions.c.job == job)
                                .order_by(job_versions.c.version.desc())).all()
        return [_version(r) for r in rows]

    # -- job runs --------------------------------------------------------------------------

    def create_run(self, run: JobRun, runner: RunnerIdentity) -> None:
        with db.writing(self.engine, self.url) as conn:
            conn.execute(job_runs.insert().values(
                job_run_id=run.job_run_id, job=run.job, version=run.version, stage=run.stage,
                state=run.state, failure=None, steps=[s.to_json() for s in run.steps],
                resumed_from=run.resumed_from, user=run.user, host=runner.host,
                runner_pid=runner.pid, runner_start=runner.start, started_at=run.started_at))

    def update_steps(self, job_run_id: str, steps: Sequence[StepResult]) -> None:
        with db.writing(self.engine, self.url) as conn:
            conn.execute(job_runs.update().where(job_runs.c.job_run_id == job_run_id)
                         .values(steps=[s.to_json() for s in steps]))

    def finish_run(self, job_run_id: str, *, state: str, failure: Failure | None,
                   steps: Sequence[StepResult]) -> None:
        with db.writing(self.engine, self.url) as conn:
            conn.execute(job_runs.update().where(job_runs.c.job_run_id == job_run_id,
                                                 job_runs.c.state == "running")
                         .values(state=state, failure=failure.to_json() if failure else None,
                                 steps=[s.to_json() for s in steps], ended_at=utcnow()))

    def run(self, job_run_id: str) -> JobRun:
        with db.reading(self.engine, self.url) as conn:
            row = conn.execute(sa.select(job_runs).where(
                job_runs.c.job_run_id == job_run_id)).first()
        if row is None:
            raise NotFound(f"no job run '{job_run_id}'")
        return _job_run(row)

    def runs(self, job: str | None = None, *, version: int | None = None,
             state: str | None = None, limit: int = 20) -> list[JobRun]:
        query = sa.select(job_runs).order_by(job_runs.c.job_run_id.desc()).limit(limit)
        if job is not None:
            query = query.where(job_runs.c.job == job)
        if version is not None:
            query = query.where(job_runs.c.version == version)
        if state is not None:
            query = query.where(job_runs.c.state == state)
        with db.reading(self.engine, self.url) as conn:
            return [_job_run(r) for r in conn.execute(query).all()]

    def reap_lost(self, is_alive: Callable[[RunnerIdentity], bool | None]) -> list[str]:
        """Mark ``lost`` every running job run whose runner ``is_alive`` says is gone.

        As ``Registry.reap_lost`` for runs, without its heartbeat fallback: job runs have no
        heartbeat, so a runner on another host (``is_alive`` None) is left running.
        """
        with db.reading(self.engine, self.url) as conn:
            rows = conn.execute(sa.select(job_runs.c.job_run_id, job_runs.c.host,
                                          job_runs.c.runner_pid, job_runs.c.runner_start)
                                .where(job_runs.c.state == "running")).all()
        gone = [r.job_run_id for r in rows if is_alive(
            RunnerIdentity(r.host or "", r.runner_pid or 0, r.runner_start)) is False]
        failure = Failure(kind="lost", message="the process running this job vanished")
        for job_run_id in gone:
            with db.writing(self.engine, self.url) as conn:
                conn.execute(job_runs.update().where(job_runs.c.job_run_id == job_run_id,
                                                     job_runs.c.state == "running")
                             .values(state="lost", failure=failure.to_json(),
                                     ended_at=utcnow()))
        return gone

    # -- stages ----------------------------------------------------------------------------

    def stage(self, job: str, stage: str) -> StagePointer | None:
        with db.reading(self.engine, self.url) as conn:
            row = conn.execute(sa.select(stages).where(stages.c.job == job,
                                                       stages.c.stage == stage)).first()
        return _pointer(row) if row is not None else None

    def stages(self, job: str) -> list[StagePointer]:
        with db.reading(self.engine, self.url) as conn:
            rows = conn.execute(sa.select(stages).where(stages.c.job == job)).all()
        return [_pointer(r) for r in rows]

    def move_stage(self, entry: AuditEntry, *, expected_revision: int | None) -> StagePointer:
        """Point ``entry.stage`` at ``entry.to_version`` if nobody moved it since
        ``expected_revision`` (None: it had never been set), and audit it, atomically.

        Raises Conflict (after auditing the attempt) when the stage moved meanwhile.
        """
        assert entry.stage is not None and entry.to_version is not None
        job, stage = entry.job, entry.stage
        try:
            with db.writing(self.engine, self.url) as conn:
                if expected_revision is None:
                    taken = conn.execute(sa.select(stages.c.revision).where(
                        stages.c.job == job, stages.c.stage == stage)).first()
                    moved = 0
                    if taken is None:
                        conn.execute(stages.insert().values(
                            job=job, stage=stage, version=entry.to_version, revision=1,
                            moved_by=entry.user, moved_at=entry.at))
                        moved = 1
                else:
                    moved = conn.execute(stages.update().where(
                        stages.c.job == job, stages.c.stage == stage,
                        stages.c.revision == expected_revision).values(
                        version=entry.to_version, revision=expected_revision + 1,
                        moved_by=entry.user, moved_at=entry.at)).rowcount
                if moved == 1:
                    _audit(conn, entry)
        except db.DuplicateKey:  # another first move inserted the row
            moved = 0
        if moved != 1:
            self.add_audit(_replace_outcome(entry, "conflict"))
            raise Conflict(f"stage {stage} of job {job} was moved by someone else while this "
                           f"{entry.action} was being checked; nothing changed",
                           hint="look at `nbprod stages` and try again")
        pointer = self.stage(job, stage)
        assert pointer is not None
        return pointer

    def stage_history(self, job: str, stage: str) -> list[AuditEntry]:
        """Successful moves of a stage, oldest first."""
        with db.reading(self.engine, self.url) as conn:
            rows = conn.execute(sa.select(audit).where(
                audit.c.job == job, audit.c.stage == stage, audit.c.outcome == "ok",
                audit.c.action.in_(["promote", "rollback"])).order_by(audit.c.audit_id)).all()
        return [_entry(r) for r in rows]

    # -- approvals and audit ---------------------------------------------------------------

    def approve(self, entry: AuditEntry) -> None:
        """Record an approval and its audit row together (once per approver)."""
        assert entry.version is not None and entry.stage is not None
        try:
            with db.writing(self.engine, self.url) as conn:
                conn.execute(approvals.insert().values(
                    job=entry.job, version=entry.version, stage=entry.stage,
                    approver=entry.user, comment=entry.reason, approved_at=entry.at))
                _audit(conn, entry)
        except db.DuplicateKey:
            raise Conflict(f"{entry.user} already approved version {entry.version} of "
                           f"{entry.job} for {entry.stage}") from None

    def approvals(self, job: str, version: int, stage: str) -> list[tuple[str, dt.datetime]]:
        with db.reading(self.engine, self.url) as conn:
            rows = conn.execute(sa.select(approvals.c.approver, approvals.c.approved_at).where(
                approvals.c.job == job, approvals.c.version == version,
                approvals.c.stage == stage).order_by(approvals.c.approved_at)).all()
        return [(r.approver, db.aware(r.approved_at)) for r in rows]

    def add_audit(self, entry: AuditEntry) -> None:
        with db.writing(self.engine, self.url) as conn:
            _audit(conn, entry)

    def audit(self, job: str | None = None, *, limit: int = 100) -> list[AuditEntry]:
        query = sa.select(audit).order_by(audit.c.audit_id.desc()).limit(limit)
        if job is not None:
            query = query.where(audit.c.job == job)
        with db.reading(self.engine, self.url) as conn:
            return [_entry(r) for r in conn.execute(query).all()]


def _by_digest(conn: Connection, job: str, digest: str) -> Row[Any] | None:
    return conn.execute(sa.select(job_versions).where(job_versions.c.job == job,
                                                      job_versions.c.digest == digest)).first()


def _audit(conn: Connection, entry: AuditEntry) -> None:
    conn.execute(audit.insert().values(
        at=entry.at, user=entry.user, action=entry.action, outcome=entry.outcome,
        job=entry.job, version=entry.version, stage=entry.stage,
        from_version=entry.from_version, to_version=entry.to_version, forced=entry.forced,
        gates=list(entry.gates), reason=entry.reason, os_user=entry.os_user,
        claimed_user=entry.claimed_user))


def _replace_outcome(entry: AuditEntry, outcome: str) -> AuditEntry:
    import dataclasses

    return dataclasses.replace(entry, outcome=outcome, at=utcnow())


def _version(row: Row[Any]) -> JobVersion:
    return JobVersion(job=row.job, version=row.version, digest=row.digest,
                      manifest=dict(row.manifest), built_by=row.built_by,
                      built_at=db.aware(row.built_at))


def _job_run(row: Row[Any]) -> JobRun:
    return JobRun(
        job_run_id=row.job_run_id, job=row.job, version=row.version, stage=row.stage,
        state=row.state, started_at=db.aware(row.started_at),
        steps=tuple(StepResult(step=s["step"], run_id=s.get("run_id"), state=s["state"],
                               reused=bool(s.get("reused"))) for s in row.steps or []),
        failure=Failure.from_json(row.failure) if row.failure else None,
        ended_at=db.aware(row.ended_at) if row.ended_at else None,
        resumed_from=row.resumed_from, user=row.user)


def _pointer(row: Row[Any]) -> StagePointer:
    return StagePointer(job=row.job, stage=row.stage, version=row.version,
                        revision=row.revision, moved_by=row.moved_by,
                        moved_at=db.aware(row.moved_at))


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(at=db.aware(row.at), user=row.user, action=row.action,
                      outcome=row.outcome, job=row.job, version=row.version, stage=row.stage,
                      from_version=row.from_version, to_version=row.to_version,
                      forced=row.forced, gates=list(row.gates or []), reason=row.reason,
                      audit_id=row.audit_id, os_user=row.os_user,
                      claimed_user=row.claimed_user)
