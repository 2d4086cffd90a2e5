"""Pages for jobs: the list, one job (stages and their history, versions with each stage's
gate verdict and approvals, job runs, audit; Build / Run / Promote / Approve / Rollback for
users whose role allows them), the form actions behind those buttons, and one job run."""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import api
from ..api import joboverview
from ..api.jobs import JobRunRequest, build_job
from ..api.promotion import approve, promote, rollback
from ..errors import GateFailed, InvalidInput, NbprodError
from .api_jobs import start_job_run
from .base import NbprodPageHandler, requires
from .events import job_run_progress

ACTIONS = ("build", "run", "promote", "approve", "rollback")


def routes() -> list[tuple[str, Any]]:
    return [(r"/nbprod/jobs/?", JobsPage),
            (r"/nbprod/jobs/(?P<job>[^/]+)/(?P<action>build|run|promote|approve|rollback)",
             JobActionHandler),
            (r"/nbprod/jobs/(?P<job>[^/]+)", JobPage),
            (r"/nbprod/job-runs/(?P<job_run_id>[^/]+)", JobRunPage)]


class JobsPage(NbprodPageHandler):
    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        jobs = await self.call(joboverview.list_jobs, self.project())
        self.page("jobs.html", jobs=jobs, active="jobs")


class JobPage(NbprodPageHandler):
    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, job: str) -> None:
        overview = await self.call(joboverview.job_overview, self.project(), job)
        self.page("job.html", overview=overview, spec=overview.spec, active="jobs")


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, got {value[:20]!r}") from None


class JobActionHandler(NbprodPageHandler):
    """The job page's forms. Each answers with a redirect back and a one-line message; the
    use cases check roles again and audit every promotion, approval and rollback attempt."""

    @web.authenticated
    @authorized
    @requires("view")
    async def post(self, job: str, action: str) -> None:
        needed = {"build": "run", "run": "run"}.get(action)
        if needed is not None:
            self.allowed.require(needed)
        back = self.url("jobs", job)
        try:
            message, target = await self._act(job, action)
        except GateFailed as exc:
            failed = "; ".join(f"{r.gate}: {r.detail}" for r in exc.results if not r.passed)
            self.flash("error", f"refused: gates failed: {failed}")
            self.local_redirect(back)
            return
        except NbprodError as exc:
            self.flash("error", exc.one_line())
            self.local_redirect(back)
            return
        self.flash("ok", message)
        self.local_redirect(target or back)

    async def _act(self, job: str, action: str) -> tuple[str, str | None]:
        project = self.project()
        spec = await self.call(joboverview.job, project, job)
        form = {k: self.get_body_argument(k, "").strip() for k in
                ("version", "stage", "reason", "comment", "force", "test")}
        if action == "build":
            built = await self.call(build_job, project, spec)
            return (f"built version {built.version.version} of {spec.name}" if built.created
                    else f"version {built.version.version} already holds this content"), None
        if action == "run":
            return await self._run(spec.name, form)
        if action == "promote":
            version = _int(form["version"], "version")
            outcome = await self.call(promote, project, spec, version, form["stage"],
                                      force=form["force"] == "on",
                                      reason=form["reason"] or None)
            if not outcome.moved:
                return f"{form['stage']} already points at version {version}", None
            forced = " (forced past failed gates)" if outcome.forced else ""
            return f"{form['stage']} of {spec.name} now points at version {version}{forced}", \
                None
        if action == "approve":
            version = _int(form["version"], "version")
            stage = form["stage"] or "production"
            approvals = await self.call(approve, project, spec, version, stage,
                                        form["comment"] or None)
            return (f"approved version {version} for {stage} (approvals: "
                    f"{', '.join(u for u, _ in approvals)})"), None
        pointer = await self.call(rollback, project, spec, form["stage"],
                                  reason=form["reason"] or None)
        return f"{form['stage']} of {spec.name} rolled back to version {pointer.version}", None

    async def _run(self, job: str, form: dict[str, str]) -> tuple[str, str | None]:
        source = form["stage"]
        request = JobRunRequest(
            stage=source[len("stage:"):] if source.startswith("stage:") else None,
            version=_int(source[len("version:"):], "version")
            if source.startswith("version:") else None, test=form["test"] == "on")
        task = await start_job_run(self, job, request)
        await asyncio.get_running_loop().run_in_executor(None, task.run_started.wait, 5.0)
        job_run_id = task.snapshot()["job_run_id"]
        target = self.url("job-runs", job_run_id) if job_run_id else \
            self.url("tasks", task.task_id)
        return f"started job {job}", target


def _job_run_data(project: api.Project, job_run_id: str) -> dict[str, Any]:
    job_run = joboverview.job_run(project, job_run_id)
    ids = [s.run_id for s in job_run.steps if s.run_id]
    records = {r.run_id: r for r in project.registry.list_runs(run_ids=ids)} if ids else {}
    return {"job_run": job_run, "records": records}


class JobRunPage(NbprodPageHandler):
    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, job_run_id: str) -> None:
        data = await self.call(_job_run_data, self.project(), job_run_id)
        task = self.nbprod.tasks.find(job_run_id=data["job_run"].job_run_id)
        self.page("job_run.html", progress=job_run_progress(data["job_run"], task),
                  active="jobs", **data)
