"""Pages: runs (filters, cursor paging, select to compare), one run (header card, files,
lineage, live progress, the rendered notebook in a sandboxed frame), compare, notebooks (their
contracts, checks and a form to start a run), a task's progress, and the 404s."""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import api
from ..api import browse
from ..api.compare import compare_runs
from ..errors import InvalidInput, NotFound
from ..records import RunRecord
from .api_runs import given_parameters, run_query, start_run
from .base import REPORT_CSP, NbprodAPIHandler, NbprodPageHandler, requires
from .chart import line_chart
from .events import run_progress


def routes() -> list[tuple[str, Any]]:
    return [(r"/nbprod/?", RunsPage), (r"/nbprod/runs/?", RunsPage),
            (r"/nbprod/runs/(?P<run_id>[^/]+)/report", ReportPage),
            (r"/nbprod/runs/(?P<run_id>[^/]+)", RunPage),
            (r"/nbprod/compare", ComparePage),
            (r"/nbprod/notebooks/?", NotebooksPage),
            (r"/nbprod/notebooks/(?P<name>[^/]+)", NotebookPage),
            (r"/nbprod/tasks/(?P<task_id>[^/]+)", TaskPage)]


class RunsPage(NbprodPageHandler):
    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        query = run_query(self)
        project = self.project()
        page, choices = await asyncio.gather(self.call(browse.runs_page, project, query),
                                             self.call(browse.run_choices, project))
        filters = {k: v for k, v in (("notebook", query.notebook), ("state", query.state),
                                     ("user", query.user), ("job_run", query.job_run_id)) if v}
        self.page("runs.html", page=page, choices=choices, filters=filters, active="runs")


def _run_page_data(project: api.Project, run_id: str) -> dict[str, Any]:
    record = api.get_run(project, run_id)
    upstream: dict[str, RunRecord | None] = {}
    for step, upstream_id in record.lineage.upstream.items():
        try:
            upstream[step] = api.get_run(project, upstream_id)
        except NotFound:
            upstream[step] = None
    job_steps = []
    if record.job_run_id:
        from ..api.joboverview import job_run

        try:
            job_steps = list(job_run(project, record.job_run_id).steps)
        except NotFound:
            job_steps = []
    return {"record": record, "upstream": upstream, "job_steps": job_steps,
            "checks": api.checks_for(project, record.notebook_version),
            "failing": browse.failing_cell(project, record)}


class RunPage(NbprodPageHandler):
    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, run_id: str) -> None:
        data = await self.call(_run_page_data, self.project(), run_id)
        record = data["record"]
        task = self.nbprod.tasks.find(run_id=record.run_id)
        self.page("run.html", progress=run_progress(record, task), active="runs", **data)


class ReportPage(NbprodPageHandler):
    """The run's stored, sanitized report, for the run page's sandboxed frame only."""

    @property
    def content_security_policy(self) -> str:
        return REPORT_CSP

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, run_id: str) -> None:
        project = self.project()
        record = await self.call(api.get_run, project, run_id)
        if record.artifact("report.html") is None:
            body = ("<!doctype html><meta charset=utf-8><p style='font:14px sans-serif;"
                    "color:#59636e'>No rendered notebook: this run stored no report.</p>")
            self.finish(body)
            return
        stored = await self.call(browse.read_artifact, project, record, "report.html")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "private, max-age=3600")  # a run never changes
        self.set_header("Referrer-Policy", "no-referrer")
        self.finish(stored.data)


def _compare_data(project: api.Project, refs: list[str], value: str | None) -> dict[str, Any]:
    comparison = compare_runs(project, refs)
    notebook = comparison.runs[0].notebook
    names = browse.value_names(project, notebook)
    # Default to a value that differs between the compared runs: the one worth a chart.
    numeric = [r.name for r in comparison.rows if r.section == "values" and r.name in names]
    differing = [r.name for r in comparison.differing() if r.section == "values" and
                 r.name in names]
    chosen = value if value in names else next(iter(differing or numeric or names), None)
    series = browse.value_series(project, notebook, chosen) if chosen else []
    return {"comparison": comparison, "notebook": notebook, "value_names": names,
            "value": chosen, "series": series}


class ComparePage(NbprodPageHandler):
    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        refs = [r for r in self.get_arguments("run") if r]
        only = self.get_argument("only", "") == "differences"
        if len(refs) < 2:
            self.page("compare.html", comparison=None, refs=refs, only=only, active="runs")
            return
        data = await self.call(_compare_data, self.project(), refs,
                               self.get_argument("value", None))
        chart = line_chart(data["series"], name=data["value"] or "",
                           link=lambda run_id: self.url("runs", run_id),
                           highlight={r.run_id for r in data["comparison"].runs})
        rows = data["comparison"].differing() if only else list(data["comparison"].rows)
        self.page("compare.html", refs=refs, only=only, rows=rows, chart=chart,
                  active="runs", **data)


def _notebooks_data(project: api.Project) -> list[dict[str, Any]]:
    rows = []
    for info in browse.list_notebooks(project):
        latest = browse.runs_page(project, browse.RunQuery(notebook=info.path, limit=1)).runs
        checks = api.list_checks(project, notebook=info.path, limit=10)
        rows.append({"info": info, "latest": latest[0] if latest else None,
                     "lint": next((c for c in checks if c.kind == "lint"), None),
                     "test": next((c for c in checks if c.kind == "test"), None)})
    return rows


class NotebooksPage(NbprodPageHandler):
    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        rows = await self.call(_notebooks_data, self.project())
        self.page("notebooks.html", rows=rows, active="notebooks")


def _notebook_data(project: api.Project, name: str) -> dict[str, Any]:
    info = browse.notebook_info(project, name)
    runs = browse.runs_page(project, browse.RunQuery(notebook=info.path, limit=10)).runs
    return {"info": info, "runs": runs,
            "checks": api.list_checks(project, notebook=info.path, limit=10)}


class NotebookPage(NbprodPageHandler):
    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, name: str) -> None:
        data = await self.call(_notebook_data, self.project(), name)
        self.page("notebook.html", given={}, problem=None, active="notebooks", **data)

    @web.authenticated
    @authorized
    @requires("run")
    async def post(self, name: str) -> None:
        given = {key[2:]: value for key, value in
                 ((k, self.get_body_argument(k, "")) for k in self.request.body_arguments
                  if k.startswith("p:")) if value.strip() != ""}
        try:
            task = await start_run(self, name, given_parameters(given, strings=True,
                                                                source="the run form"))
        except InvalidInput as exc:
            data = await self.call(_notebook_data, self.project(), name)
            self.page("notebook.html", status=400, given=given, problem=exc.one_line(),
                      active="notebooks", **data)
            return
        await asyncio.get_running_loop().run_in_executor(None, task.run_started.wait, 5.0)
        run_id = task.snapshot()["run_id"]
        self.local_redirect(self.url("runs", run_id) if run_id else
                            self.url("tasks", task.task_id))


class TaskPage(NbprodPageHandler):
    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, task_id: str) -> None:
        task = self.nbprod.tasks.get(task_id)
        snapshot = task.snapshot()
        if snapshot["run_id"]:
            self.local_redirect(self.url("runs", snapshot["run_id"]), status=302)
            return
        if snapshot["job_run_id"]:
            self.local_redirect(self.url("job-runs", snapshot["job_run_id"]), status=302)
            return
        self.page("task.html", task=snapshot, active="runs")


class PageNotFoundHandler(NbprodPageHandler):
    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        raise NotFound(f"no page {self.request.path[:200]}",
                       hint="start from the runs page")


class APINotFoundHandler(NbprodAPIHandler):
    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        raise NotFound(f"no API route {self.request.path[:200]}",
                       hint="GET /nbprod/api/openapi.json lists them")

    @web.authenticated
    @authorized
    @requires("view")
    async def post(self) -> None:
        raise NotFound(f"no API route {self.request.path[:200]}",
                       hint="GET /nbprod/api/openapi.json lists them")
