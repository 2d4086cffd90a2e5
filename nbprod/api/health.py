"""Use case: the health of every scheduled job at a stage, at a moment (default: now)."""

from __future__ import annotations

import datetime as dt

from ..jobs.spec import declared_jobs
from ..monitor.alerts import Alert
from ..monitor.health import HealthLimits, JobHealth, RunFacts, assess
from ..records import AlertRecord
from .alerting import link, monitor_settings, notify
from .project import Project


def job_health(project: Project, *, at: dt.datetime | None = None, stage: str = "production",
               alert: bool = True) -> tuple[list[JobHealth], list[AlertRecord]]:
    """Every job with a schedule and a ``stage`` pointer: stale, failing, slow (or healthy);
    with ``alert``, an alert per unhealthy job."""
    from .jobs import reap_lost_job_runs

    settings = monitor_settings(project)
    limits = HealthLimits(grace=settings.grace, failing_after=settings.failing_after,
                          slow_factor=settings.slow_factor)
    moment = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    reap_lost_job_runs(project)
    found, alerts = [], []
    for spec in declared_jobs(project.settings) if project.settings else []:
        name = spec.name
        pointer = project.registry.jobs.stage(name, stage)
        if not spec.schedule or pointer is None:
            continue
        runs = [RunFacts(r.job_run_id, r.state, r.started_at, r.ended_at)
                for r in project.registry.jobs.runs(name, limit=200) if r.stage == stage]
        health = assess(name, stage, pointer.version, spec.schedule, runs, moment, limits,
                        stage_moved_at=pointer.moved_at)
        found.append(health)
        if alert and not health.healthy:
            record, _problem = notify(project, _alert(health, link(settings, f"jobs/{name}")))
            if record is not None:
                alerts.append(record)
    return found, alerts


def _alert(health: JobHealth, url: str | None) -> Alert:
    kinds = [p.kind for p in health.problems]
    return Alert(event=kinds[0], key=f"health:{health.job}:{health.stage}:{','.join(kinds)}",
                 title=f"{health.job} version {health.version} ({health.stage}): "
                       f"{' and '.join(kinds)}",
                 lines=tuple(f"{p.kind}: {p.detail}" for p in health.problems),
                 fields={"job": health.job, "stage": health.stage, "version": health.version,
                         "problems": [p.to_json() for p in health.problems]},
                 link=url)
