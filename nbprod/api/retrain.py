"""Use case: a drift verdict with ``on_drift = "retrain"`` builds and runs a challenger.

The challenger is a version built from the current notebooks of the job that trains (the
``retrain`` setting, else the job whose runs recorded the reference, else the monitored job
itself), run once as an ordinary job run. Nothing is promoted: its way to production is the
same ``nbprod promote`` through the same gates (``not_worse`` compares it with the champion
in production) and the same approvals.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import NbprodError
from ..jobs.spec import job_spec
from ..monitor.settings import JobMonitor
from ..records import MonitorVerdict, utcnow
from .jobs import JobRunRequest, build_job, run_job
from .project import Project


def retrain(project: Project, config: JobMonitor, reference_job: str) -> dict[str, Any]:
    """Build and run the challenger; what happened, for the verdict (never raises)."""
    target = config.retrain or reference_job
    try:
        if project.settings is None:
            raise NbprodError("retraining needs the project's settings")
        spec = job_spec(project.settings, target)
        built = build_job(project, spec)
        version = built.version.version
        champion = project.registry.jobs.stage(target, "production")
        job_run = run_job(project, spec, JobRunRequest(version=version))
    except NbprodError as exc:
        return {"job": target, "error": exc.one_line()}
    same = champion is not None and champion.version == version
    return {"job": target, "version": version, "created": built.created,
            "job_run_id": job_run.job_run_id, "state": job_run.state,
            "champion": champion.version if champion else None,
            "next": (f"version {version} is the champion already: its notebooks did not "
                     "change; this run retrained it on the current data") if same else
                    (f"nbprod promote {target} {version} --to staging, then production "
                     "(its gates and approvals decide)")}


def recent_retrain(project: Project, job: str, stage: str,
                   window: float) -> MonitorVerdict | None:
    """A verdict within ``window`` seconds that retrained (one challenger per drift, not
    one per monitor call)."""
    since = utcnow() - dt.timedelta(seconds=window)
    for verdict in project.registry.monitor.verdicts(job, stage=stage, limit=20):
        if verdict.created_at < since:
            return None
        retrained = verdict.details.get("retrain")
        if isinstance(retrained, dict) and "error" not in retrained:
            return verdict
    return None
