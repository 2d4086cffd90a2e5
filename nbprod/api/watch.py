"""Use case: what follows a finished job run: an alert when a production run failed, and
the monitor when the job is monitored at that stage (``after_run``). Never raises: the run
is already recorded, and its outcome stands whatever happens here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import NbprodError
from ..monitor.alerts import Alert
from ..records import AlertRecord, JobRun
from .alerting import link, monitor_settings, notify
from .monitoring import MonitorOutcome, differences, latest_at_stage, monitor_job
from .project import Project


@dataclass(frozen=True)
class Followup:
    monitor: MonitorOutcome | None = None
    alerts: tuple[AlertRecord, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {"monitor": self.monitor.to_json() if self.monitor else None,
                "alerts": [a.to_json() for a in self.alerts], "notes": list(self.notes)}


def after_job_run(project: Project, job_run: JobRun) -> Followup:
    """Alert on a failed production run; monitor a monitored stage's succeeded run."""
    try:
        settings = monitor_settings(project)
    except NbprodError as exc:
        return Followup(notes=(f"monitoring skipped: {exc.one_line()}",))
    if job_run.stage == "production" and job_run.state != "succeeded":
        record, problem = notify(project, _failed(project, job_run, link(
            settings, f"jobs/{job_run.job}")))
        return Followup(alerts=(record,) if record else (), notes=(problem,) if problem else ())
    config = settings.jobs.get(job_run.job)
    if config is None or not config.after_run or job_run.stage != config.stage \
            or job_run.state != "succeeded":
        return Followup()
    try:
        outcome = monitor_job(project, job_run.job, job_run.stage)
    except NbprodError as exc:
        return Followup(notes=(f"monitor of {job_run.job} failed: {exc.one_line()}",))
    return Followup(monitor=outcome, alerts=outcome.alerts, notes=outcome.notes)


def _failed(project: Project, job_run: JobRun, url: str | None) -> Alert:
    failure = job_run.failure
    failed = next((s for s in job_run.steps if s.state in ("failed", "lost")), None)
    lines = [f"job run {job_run.job_run_id}" + (f", step {failed.step} (run {failed.run_id})"
                                                 if failed else "")]
    if failure is not None:
        where = f" at cell {failure.cell_index}" if failure.cell_index is not None else ""
        lines.append(f"{failure.kind}{where}: {failure.message}")
    good = latest_at_stage(project, job_run.job, str(job_run.stage))
    if good is not None:
        try:
            lines += differences(project, good.job_run_id, job_run.job_run_id)
        except NbprodError as exc:
            lines.append(f"could not compare with the last good run: {exc.one_line()}")
    return Alert(event="run_failed",
                 key=f"run_failed:{job_run.job}:{job_run.stage}:{job_run.version}:"
                     f"{failure.kind if failure else 'failed'}:"
                     f"{failed.step if failed else ''}",
                 title=f"{job_run.job} version {job_run.version} ({job_run.stage}): run "
                       f"failed" + (f" in step {failed.step}" if failed else ""),
                 lines=tuple(lines),
                 fields={"job": job_run.job, "stage": job_run.stage,
                         "version": job_run.version, "job_run_id": job_run.job_run_id,
                         "failure": failure.to_json() if failure else None},
                 link=url)
