"""The run record: what nbprod knows about one notebook execution, and its JSON shape.

These are plain frozen dataclasses shared by the registry (which stores them), the API (which
assembles them) and the interfaces (which render them). ``RunRecord.to_json()`` is the contract
behind ``--json`` and ``record.json``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

RunState = Literal["running", "succeeded", "failed", "lost"]
FailureKind = Literal["cell_error", "kernel_died", "timeout", "invalid_input", "infra",
                      "internal", "lost", "data_check"]

FINAL_STATES: frozenset[str] = frozenset({"succeeded", "failed", "lost"})
FAILURE_KINDS: tuple[str, ...] = (
    "cell_error", "kernel_died", "timeout", "invalid_input", "infra", "internal", "lost",
    "data_check",
)

_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable unique id: UTC time to the millisecond, then 30 random bits.

    ``20261126-050606-123-k3m9x2``: sorts by start time; the last six characters are random
    and are enough to name a run on the command line (``nbprod show k3m9x2``).
    """
    now = now or dt.datetime.now(dt.UTC)
    stamp = now.strftime("%Y%m%d-%H%M%S-") + f"{now.microsecond // 1000:03d}"
    bits = secrets.randbits(30)
    suffix = "".join(_ID_ALPHABET[(bits >> shift) & 31] for shift in range(25, -1, -5))
    return f"{stamp}-{suffix}"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)



def format_duration(seconds: float) -> str:
    """A run's duration as the CLI and the dashboard show it: ``4.2 s``, ``3 min 07 s``,
    ``1 h 05 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@dataclass(frozen=True)
class RunnerIdentity:
    """The process that executes a run, to tell a live runner from a vanished one."""

    host: str
    pid: int
    start: str | None  # process start time (Linux: /proc/PID/stat field 22)


@dataclass(frozen=True)
class Failure:
    """Why a run failed: its kind and, where known, the cell and the exception."""

    kind: FailureKind
    message: str
    cell_index: int | None = None
    ename: str | None = None
    evalue: str | None = None
    exit_code: int | None = None
    signal: str | None = None
    # data_check: the broken rule (dataset, column, rule, failing_rows)
    check: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "cell_index": self.cell_index,
            "ename": self.ename,
            "evalue": self.evalue,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "check": dict(self.check) if self.check else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Failure:
        return cls(
            kind=data["kind"],
            message=data.get("message") or "",
            cell_index=data.get("cell_index"),
            ename=data.get("ename"),
            evalue=data.get("evalue"),
            exit_code=data.get("exit_code"),
            signal=data.get("signal"),
            check=data.get("check"),
        )


@dataclass(frozen=True)
class ArtifactRef:
    """One committed file of a run: its name inside the run, where it is, size and SHA-256."""

    name: str
    location: str
    sha256: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.location, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class Lineage:
    """Where a run came from: code, environment, inputs, machine."""

    git_commit: str | None = None
    git_dirty: bool | None = None
    environment_digest: str | None = None
    python: str | None = None
    input_digests: dict[str, str] = field(default_factory=dict)
    kernel: str | None = None
    user: str | None = None
    host: str | None = None
    runner_pid: int | None = None
    upstream: dict[str, str] = field(default_factory=dict)  # step -> run id whose files it read

    def to_json(self) -> dict[str, Any]:
        return {
            "upstream": dict(self.upstream),
            "git_commit": self.git_commit,
            "git_dirty": self.git_dirty,
            "environment_digest": self.environment_digest,
            "python": self.python,
            "input_digests": dict(self.input_digests),
            "kernel": self.kernel,
            "user": self.user,
            "host": self.host,
            "runner_pid": self.runner_pid,
        }


@dataclass(frozen=True)
class RunRecord:
    """Everything recorded about one run."""

    run_id: str
    notebook: str
    notebook_version: str | None
    state: RunState
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    failure: Failure | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    contract: list[dict[str, Any]] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    artifacts: tuple[ArtifactRef, ...] = ()
    lineage: Lineage = field(default_factory=Lineage)
    note: str | None = None
    job_run_id: str | None = None
    step: str | None = None
    sweep_id: str | None = None
    point: int | None = None
    run_key: str | None = None
    cache_hit: bool = False  # returned by --cache instead of executing (not stored)

    @property
    def duration(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()

    def artifact(self, name: str) -> ArtifactRef | None:
        return next((a for a in self.artifacts if a.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "notebook": self.notebook,
            "notebook_version": self.notebook_version,
            "state": self.state,
            "failure": self.failure.to_json() if self.failure else None,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "duration": self.duration,
            "parameters": dict(self.parameters),
            "contract": list(self.contract),
            "values": dict(self.values),
            "artifacts": [a.to_json() for a in self.artifacts],
            "lineage": self.lineage.to_json(),
            "note": self.note,
            "job_run_id": self.job_run_id,
            "step": self.step,
            "sweep_id": self.sweep_id,
            "point": self.point,
            "run_key": self.run_key,
            "cache_hit": self.cache_hit,
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class CheckRecord:
    """A lint or test result for one notebook version."""

    kind: Literal["lint", "test"]
    notebook: str
    notebook_version: str
    passed: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    config_digest: str | None = None
    run_id: str | None = None
    user: str | None = None
    host: str | None = None
    created_at: dt.datetime = field(default_factory=utcnow)
    check_id: int | None = None
    # what the result says (notebook, verdict, summary, details) as a digest: a result equal
    # to the latest recorded for its version, kind and settings is not recorded again
    result_digest: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id, "kind": self.kind, "notebook": self.notebook,
            "notebook_version": self.notebook_version, "passed": self.passed,
            "summary": self.summary, "details": self.details,
            "config_digest": self.config_digest, "run_id": self.run_id, "user": self.user,
            "host": self.host, "created_at": _iso(self.created_at),
        }


@dataclass(frozen=True)
class JobVersion:
    """An immutable, numbered build of a job: what its manifest pins."""

    job: str
    version: int
    digest: str
    manifest: dict[str, Any]
    built_by: str
    built_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {"job": self.job, "version": self.version, "digest": self.digest,
                "built_by": self.built_by, "built_at": _iso(self.built_at),
                "manifest": self.manifest}


@dataclass(frozen=True)
class StepResult:
    """One step of a job run: its run, and whether it was reused from an earlier job run."""

    step: str
    run_id: str | None
    state: str  # succeeded | failed | lost | skipped | running
    reused: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "run_id": self.run_id, "state": self.state,
                "reused": self.reused}


@dataclass(frozen=True)
class JobRun:
    job_run_id: str
    job: str
    version: int | None
    stage: str | None
    state: RunState
    started_at: dt.datetime
    steps: tuple[StepResult, ...] = ()
    failure: Failure | None = None
    ended_at: dt.datetime | None = None
    resumed_from: str | None = None
    user: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"job_run_id": self.job_run_id, "job": self.job, "version": self.version,
                "stage": self.stage, "state": self.state,
                "failure": self.failure.to_json() if self.failure else None,
                "steps": [s.to_json() for s in self.steps],
                "resumed_from": self.resumed_from, "user": self.user,
                "started_at": _iso(self.started_at), "ended_at": _iso(self.ended_at)}


@dataclass(frozen=True)
class StagePointer:
    job: str
    stage: str
    version: int
    revision: int
    moved_by: str
    moved_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {"job": self.job, "stage": self.stage, "version": self.version,
                "revision": self.revision, "moved_by": self.moved_by,
                "moved_at": _iso(self.moved_at)}


@dataclass(frozen=True)
class AuditEntry:
    """One promotion, approval, rollback, forced move, refusal or conflict."""

    at: dt.datetime
    user: str
    action: str  # build | promote | approve | rollback
    outcome: str  # ok | refused | conflict | not_allowed
    job: str
    version: int | None = None
    stage: str | None = None
    from_version: int | None = None
    to_version: int | None = None
    forced: bool = False
    gates: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None
    audit_id: int | None = None
    os_user: str | None = None  # the operating-system user who ran the command
    claimed_user: str | None = None  # what NBPROD_USER claimed (trusted only if identity=env)

    def to_json(self) -> dict[str, Any]:
        return {"audit_id": self.audit_id, "at": _iso(self.at), "user": self.user,
                "os_user": self.os_user, "claimed_user": self.claimed_user,
                "action": self.action, "outcome": self.outcome, "job": self.job,
                "version": self.version, "stage": self.stage,
                "from_version": self.from_version, "to_version": self.to_version,
                "forced": self.forced, "gates": list(self.gates), "reason": self.reason}


@dataclass(frozen=True)
class ProfileRecord:
    """A data profile a run recorded (``nbprod.profile``): its summary and data checks."""

    run_id: str
    name: str
    rows: int
    columns: int
    summary: dict[str, Any]  # rows; per column: kind, missing
    checks: list[dict[str, Any]]  # dataset, column, rule, failing_rows, passed
    passed: bool
    sha256: str

    @property
    def artifact(self) -> str:
        return f"profiles/{self.name}.json"

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "name": self.name, "rows": self.rows,
                "columns": self.columns, "summary": self.summary, "checks": list(self.checks),
                "passed": self.passed, "sha256": self.sha256, "artifact": self.artifact}


@dataclass(frozen=True)
class MonitorVerdict:
    """What ``nbprod monitor`` found for a job's stage: drift and metric decay."""

    job: str
    stage: str
    version: int | None
    job_run_id: str | None  # the production job run whose profiles were compared
    reference_job_run_id: str | None  # the job run that recorded the reference profiles
    drifted: bool
    decayed: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)  # drift reports, metrics, action
    user: str | None = None
    created_at: dt.datetime = field(default_factory=utcnow)
    verdict_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"verdict_id": self.verdict_id, "job": self.job, "stage": self.stage,
                "version": self.version, "job_run_id": self.job_run_id,
                "reference_job_run_id": self.reference_job_run_id, "drifted": self.drifted,
                "decayed": self.decayed, "summary": self.summary, "details": self.details,
                "user": self.user, "created_at": _iso(self.created_at)}


@dataclass(frozen=True)
class AlertRecord:
    """An alert nbprod sent, suppressed as a repeat, or could not deliver."""

    key: str
    event: str  # run_failed | drift | decay | stale | failing | slow
    title: str
    payload: dict[str, Any]
    status: str  # pending | sent | failed | suppressed
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    job: str | None = None
    stage: str | None = None
    version: int | None = None
    created_at: dt.datetime = field(default_factory=utcnow)
    alert_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"alert_id": self.alert_id, "key": self.key, "event": self.event,
                "title": self.title, "status": self.status, "job": self.job,
                "stage": self.stage, "version": self.version,
                "deliveries": list(self.deliveries), "payload": self.payload,
                "created_at": _iso(self.created_at)}
