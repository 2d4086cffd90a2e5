"""REST handlers for runs: list (cursor paging), one run, its files, compare, diff, value
series, notebooks and their contracts, lint and test results, and starting a run."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import api
from ..api import browse
from ..api.runs import check_run_request
from ..errors import InvalidInput
from .base import NbprodAPIHandler, requires
from .events import run_progress, stream
from .openapi import array, op, query, ref
from .tasks import Task, run_work

_RUN_FILTERS = [
    query("notebook", "a notebook's name or project-relative path"),
    query("state", "running, succeeded, failed or lost"),
    query("user", "who ran it"), query("job_run", "runs of one job run"),
    query("sweep", "runs of one sweep"),
    query("before", "older than this run id (the 'older' cursor of a page)"),
    query("after", "newer than this run id (the 'newer' cursor of a page)"),
    query("limit", "runs per page, 1-200 (default 50)", {"type": "integer"})]


def int_argument(handler: Any, name: str, default: int) -> int:
    raw = handler.get_argument(name, None)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{name}={raw[:40]!r} is not a whole number") from None


def run_query(handler: Any) -> browse.RunQuery:
    """The runs filter and cursor a request's query string gives (API and runs page)."""
    def text(name: str) -> str | None:
        return handler.get_argument(name, None) or None

    return browse.RunQuery(notebook=text("notebook"), state=text("state"), user=text("user"),
                           job_run_id=text("job_run"), sweep_id=text("sweep"),
                           before=text("before"), after=text("after"),
                           limit=int_argument(handler, "limit", 50))


def given_parameters(raw: Any, *, strings: bool = False,
                     source: str = "the API request") -> dict[str, api.GivenValue]:
    """Parameters from a request: JSON values (typed) or form strings (converted like -p)."""
    if not isinstance(raw, dict):
        raise InvalidInput(f"parameters (from {source}) must be an object of name -> value")
    return {str(k): api.GivenValue(v, source=source, raw=strings and isinstance(v, str))
            for k, v in raw.items()}


class OpenAPIHandler(NbprodAPIHandler):
    path = "/openapi.json"
    openapi = {"get": op("This document (OpenAPI 3.1)")}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        from .openapi import document
        from .routes import api_handlers

        self.send(document(api_handlers(), base=self.url("api")))


class MeHandler(NbprodAPIHandler):
    path = "/me"
    openapi = {"get": op("Who you are here and what your role allows", ref("Permissions"))}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        self.send(self.allowed.to_json())


class RunsHandler(NbprodAPIHandler):
    path = "/runs"
    openapi = {
        "get": op("Runs, newest first, a page at a time", ref("RunPage"), params=_RUN_FILTERS),
        "post": op("Start a run; parameters are checked against the notebook's contract "
                   "first (the errors `nbprod run` gives)", ref("Task"), status=202, body={
                       "type": "object", "required": ["notebook"],
                       "properties": {"notebook": {"type": "string"},
                                      "parameters": {"type": "object"},
                                      "strict": {"type": "boolean"}}})}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        page = await self.call(browse.runs_page, self.project(), run_query(self))
        self.send(page.to_json())

    @web.authenticated
    @authorized
    @requires("run")
    async def post(self) -> None:
        body = self.body()
        notebook = body.get("notebook")
        if not isinstance(notebook, str) or not notebook:
            raise InvalidInput("'notebook' (a name or project-relative path) is required")
        task = await start_run(self, notebook, given_parameters(body.get("parameters", {})),
                               strict=body.get("strict"))
        self.set_header("Location", self.url("api", "tasks", task.task_id))
        self.send(task.snapshot(), status=202)


async def start_run(handler: Any, notebook: str, parameters: dict[str, api.GivenValue],
                    strict: Any = None) -> Task:
    """Check a run request as the CLI would, then start it on the task runner."""
    if strict is not None and not isinstance(strict, bool):
        raise InvalidInput("'strict' must be true or false")
    project = handler.project()
    path = await handler.call(browse.project_notebook, project, notebook)
    request = api.RunRequest(notebook=str(path), parameters=parameters, strict=strict)
    await handler.call(check_run_request, project, request)
    task = Task("run", handler.user_name, project.relative(path))
    started: Task = handler.nbprod.tasks.start(task, run_work(project, request))
    return started


class RunChoicesHandler(NbprodAPIHandler):
    path = "/run-choices"
    openapi = {"get": op("What a runs filter can offer: notebooks, users, states")}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        self.send(await self.call(browse.run_choices, self.project()))


def run_json(project: api.Project, run_id: str) -> dict[str, Any]:
    record = api.get_run(project, run_id)
    data = record.to_json()
    data["checks"] = [c.to_json() for c in api.checks_for(project, record.notebook_version)]
    cell = browse.failing_cell(project, record)
    data["failing_cell"] = cell.to_json() if cell else None
    return data


class RunHandler(NbprodAPIHandler):
    path = "/runs/{run_id}"
    openapi = {"get": op("One run: record, lineage, values, files, checks and the failing "
                         "cell of a failed run", ref("RunRecord"))}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, run_id: str) -> None:
        self.send(await self.call(run_json, self.project(), run_id))


class ArtifactHandler(NbprodAPIHandler):
    path = "/runs/{run_id}/artifacts/{name}"
    patterns = {"name": r".+"}
    openapi = {"get": op("One stored file of a run, verified against its SHA-256 (a "
                         "mismatch is a 503 IntegrityError, nothing is sent)",
                         {"type": "string", "format": "binary"},
                         content_type="application/octet-stream", errors=("503",))}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, run_id: str, name: str) -> None:
        project = self.project()
        record = await self.call(api.get_run, project, run_id)
        stored = await self.call(browse.read_artifact, project, record, name)
        filename = name.rsplit("/", 1)[-1]
        self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        self.set_header("X-Content-SHA256", stored.sha256)
        self.set_header("Content-Security-Policy", "sandbox; default-src 'none'")
        self.timing()
        self.finish(stored.data, set_content_type="application/octet-stream")


class RunEventsHandler(NbprodAPIHandler):
    path = "/runs/{run_id}/events"
    openapi = {"get": op("A run's progress as server-sent events (cell N of M, elapsed, "
                         "state), until its final state", ref("Progress"),
                         content_type="text/event-stream")}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, run_id: str) -> None:
        project = self.project()
        record = await self.call(api.get_run, project, run_id)

        async def poll() -> dict[str, Any]:
            task = self.nbprod.tasks.find(run_id=record.run_id)
            latest = await self.call(api.get_run, project, record.run_id)
            return run_progress(latest, task)

        await stream(self, poll, interval=0.5)


class CompareHandler(NbprodAPIHandler):
    path = "/compare"
    openapi = {"get": op("Two to ten runs side by side", ref("Comparison"), params=[
        query("run", "a run id (repeat: run=A&run=B)", required=True),
        query("only", "'differences' to leave out what is equal")])}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        from ..api.compare import compare_runs

        comparison = await self.call(compare_runs, self.project(), self.get_arguments("run"))
        self.send(comparison.to_json(self.get_argument("only", "") == "differences"))


class DiffHandler(NbprodAPIHandler):
    path = "/diff"
    openapi = {"get": op("What differs between two runs (as `nbprod diff`)", ref("Diff"),
                         params=[query("left", "a run id", required=True),
                                 query("right", "a run id", required=True)])}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        left, right = self.get_argument("left", ""), self.get_argument("right", "")
        if not left or not right:
            raise InvalidInput("diff needs left= and right= run ids")
        diff = await self.call(api.diff_runs, self.project(), left, right)
        self.send(diff.to_json())


class SeriesHandler(NbprodAPIHandler):
    path = "/series"
    openapi = {"get": op("A numeric value across a notebook's newest runs, oldest first",
                         array(ref("SeriesPoint")), params=[
                             query("notebook", "project-relative notebook path",
                                   required=True),
                             query("value", "the recorded value's name", required=True),
                             query("limit", "how many runs, 1-1000 (default 200)",
                                   {"type": "integer"})])}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        notebook, value = self.get_argument("notebook", ""), self.get_argument("value", "")
        if not notebook or not value:
            raise InvalidInput("series needs notebook= and value=")
        points = await self.call(browse.value_series, self.project(), notebook, value,
                                 int_argument(self, "limit", 200))
        self.send([p.to_json() for p in points])


class NotebooksHandler(NbprodAPIHandler):
    path = "/notebooks"
    openapi = {"get": op("The project's notebooks (declared, and in the notebook folder)",
                         array(ref("Notebook")))}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        notebooks = await self.call(browse.list_notebooks, self.project())
        self.send([n.to_json() for n in notebooks])


class ContractHandler(NbprodAPIHandler):
    path = "/notebooks/{name}/contract"
    openapi = {"get": op("A notebook's parameter contract (name, type, default, help)",
                         ref("Notebook"))}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, name: str) -> None:
        info = await self.call(browse.notebook_info, self.project(), name)
        self.send(info.to_json())


class ChecksHandler(NbprodAPIHandler):
    path = "/checks"
    openapi = {"get": op("Recorded lint and test results, newest first", array(ref("Check")),
                         params=[query("notebook", "a notebook name or path"),
                                 query("kind", "lint or test"),
                                 query("limit", "how many (default 50)",
                                       {"type": "integer"})])}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        kind = self.get_argument("kind", None) or None
        if kind not in (None, "lint", "test"):
            raise InvalidInput(f"kind must be lint or test, got {kind[:20]!r}")
        checks = await self.call(api.list_checks, self.project(),
                                 notebook=self.get_argument("notebook", None) or None,
                                 kind=kind, limit=int_argument(self, "limit", 50))
        self.send([c.to_json() for c in checks])
