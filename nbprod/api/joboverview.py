"""Use cases: the jobs of a project, and everything about one job on one page.

A job's overview holds its declaration, each stage's pointer and history, the newest versions
with the gate verdict (a dry run: nothing moves, nothing is audited) for promoting each into
each stage, their approvals, recent job runs and the audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..errors import NbprodError, NotFound
from ..jobs.spec import JobSpec, job_spec
from ..records import AuditEntry, JobRun, JobVersion, StagePointer
from .jobs import list_job_runs
from .project import Project
from .promotion import Verdict, evaluate, previous_version


def job(project: Project, name: str) -> JobSpec:
    """The job ``name`` as the project's settings declare it (a notebook is a job too)."""
    if project.settings is None:
        raise NotFound(f"no job '{name}': the project has no settings")
    return job_spec(project.settings, name)


def spec_json(spec: JobSpec) -> dict[str, Any]:
    return {"name": spec.name, "steps": [{"name": s.name, "notebook": s.notebook}
                                         for s in spec.steps],
            "schedule": spec.schedule, "kernel": spec.kernel, "stages": list(spec.stages),
            "promotion": {stage: {"gates": [g.to_json() for g in spec.policy(stage).gates],
                                  "approvals": spec.policy(stage).approvals}
                          for stage in spec.stages}}


@dataclass(frozen=True)
class JobSummary:
    """A declared job, where its stages point, or why its declaration is broken."""

    name: str
    steps: list[str] = field(default_factory=list)
    stages: list[tuple[str, int | None]] = field(default_factory=list)
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "steps": list(self.steps),
                "stages": {stage: version for stage, version in self.stages},
                "problem": self.problem}


def list_jobs(project: Project) -> list[JobSummary]:
    """Every job declared in ``[tool.nbprod.jobs]``, by name."""
    jobs = (project.settings.raw.get("jobs") or {}) if project.settings is not None else {}
    summaries = []
    for name in sorted(jobs) if isinstance(jobs, dict) else []:
        try:
            spec = job(project, name)
        except NbprodError as exc:
            summaries.append(JobSummary(name=name, problem=exc.one_line()))
            continue
        pointers = {p.stage: p.version for p in project.registry.jobs.stages(name)}
        summaries.append(JobSummary(name=name, steps=[s.name for s in spec.steps],
                                    stages=[(s, pointers.get(s)) for s in spec.stages]))
    return summaries


@dataclass(frozen=True)
class StageView:
    stage: str
    pointer: StagePointer | None
    history: list[AuditEntry]
    rollback_to: int | None  # the version a rollback would restore

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "pointer": self.pointer.to_json() if self.pointer else None,
                "history": [e.to_json() for e in self.history], "rollback_to": self.rollback_to}


@dataclass(frozen=True)
class VersionView:
    version: JobVersion
    verdicts: dict[str, Verdict]
    approvals: dict[str, list[tuple[str, dt.datetime]]]

    def to_json(self) -> dict[str, Any]:
        data = self.version.to_json()
        data.pop("manifest", None)
        data["steps"] = [s.get("name") for s in self.version.manifest.get("steps", [])]
        data["verdicts"] = {s: v.to_json() for s, v in self.verdicts.items()}
        data["approvals"] = {s: [{"approver": u, "at": at.isoformat()} for u, at in a]
                             for s, a in self.approvals.items()}
        return data


@dataclass(frozen=True)
class JobOverview:
    spec: JobSpec
    stages: list[StageView]
    versions: list[VersionView]
    runs: list[JobRun]
    audit: list[AuditEntry]
    total_versions: int

    def to_json(self) -> dict[str, Any]:
        return {"job": spec_json(self.spec), "stages": [s.to_json() for s in self.stages],
                "versions": [v.to_json() for v in self.versions],
                "total_versions": self.total_versions,
                "runs": [r.to_json() for r in self.runs],
                "audit": [e.to_json() for e in self.audit]}


def job_overview(project: Project, name: str, *, versions: int = 5,
                 runs: int = 10, audit: int = 50) -> JobOverview:
    """Everything about job ``name``; verdicts for its newest ``versions`` versions."""
    spec = job(project, name)
    stages = []
    for stage in spec.stages:
        history = project.registry.jobs.stage_history(spec.name, stage)
        stages.append(StageView(stage, project.registry.jobs.stage(spec.name, stage),
                                list(reversed(history)), previous_version(history)))
    built = project.registry.jobs.versions(spec.name)
    views = []
    for version in built[:versions]:
        verdicts = {stage: evaluate(project, spec, version, stage) for stage in spec.stages}
        approvals = {stage: project.registry.jobs.approvals(spec.name, version.version, stage)
                     for stage in spec.stages if spec.policy(stage).approvals}
        views.append(VersionView(version, verdicts, approvals))
    return JobOverview(spec=spec, stages=stages, versions=views,
                       runs=list_job_runs(project, spec.name, limit=runs),
                       audit=project.registry.jobs.audit(spec.name, limit=audit),
                       total_versions=len(built))


def job_run(project: Project, job_run_id: str) -> JobRun:
    """One job run (runs whose runner vanished are reported ``lost``)."""
    from .jobs import reap_lost_job_runs

    reap_lost_job_runs(project)
    return project.registry.jobs.run(job_run_id)


def verdict(project: Project, name: str, version: int, stage: str) -> Verdict:
    """Every gate's result for promoting ``version`` of job ``name`` into ``stage``: a dry
    run that moves nothing and audits nothing (anyone who may view may ask)."""
    spec = job(project, name)
    spec.policy(stage)  # NotFound for an unknown stage
    return evaluate(project, spec, project.registry.jobs.version(spec.name, version), stage)
