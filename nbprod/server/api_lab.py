"""REST handlers the JupyterLab extension needs beyond the runs and jobs API: the notebook in
focus (a Lab file path turned into the project's notebook, its contract, version, latest test
and jobs), its lint findings now, a form's values checked field by field with the CLI's
messages, and starting a sweep with progress (points done of all).
"""

from __future__ import annotations

import collections
import os
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..api import notebookview
from ..api.sweep import PointResult, grid_points, run_sweep, validate_points
from ..errors import InvalidInput, NotFound
from ..executors.threads import ThreadExecutor
from ..notebook.values import GivenValue
from .api_jobs import field
from .api_runs import given_parameters
from .base import NbprodAPIHandler, requires
from .openapi import array, op, query, ref
from .tasks import Task

_OBJ: dict[str, Any] = {"type": "object"}
_FORMS = {"run": "the Run dialog", "sweep": "the Sweep dialog"}
_VIEW = {"type": "object", "required": ["name", "path", "contract", "problem", "version",
                                        "test", "jobs"],
         "properties": {"jobs": array({"type": "object", "required": [
             "job", "step", "stages", "stage_order", "latest_version", "approvals"]})}}
_LINT = {"type": "object", "required": ["path", "failed", "findings"],
         "properties": {"findings": array({"type": "object", "required": [
             "path", "cell", "line", "code", "severity", "message"]})}}
_CHECK = {"type": "object", "required": ["ok", "errors", "problem", "values"],
          "properties": {"ok": {"type": "boolean"}, "errors": _OBJ, "values": _OBJ}}


def lab_notebook(handler: Any, lab_path: str) -> str:
    """The project-relative path of the notebook a Lab file path (relative to the server's
    root folder) names; NotFound when it is outside the project or not a notebook."""
    root = Path(handler.nbprod.serverapp.root_dir).resolve()
    if not lab_path.endswith(".ipynb") or "\\" in lab_path or Path(lab_path).is_absolute():
        raise NotFound(f"'{lab_path[:100]}' is not a notebook file")
    absolute = (root / lab_path).resolve()
    project = handler.project()
    if os.path.commonpath([root, absolute]) != str(root) or \
            os.path.commonpath([project.root.resolve(), absolute]) != str(project.root.resolve()):
        raise NotFound(f"{lab_path[:100]} is not in this nbprod project",
                       hint=f"the project is {project.root}")
    return str(project.relative(absolute))


class LabNotebookHandler(NbprodAPIHandler):
    path = "/lab/notebook"
    openapi = {"get": op("The notebook a JupyterLab file path names: its project path, "
                         "contract, version, latest test result and the jobs it is a step "
                         "of", _VIEW, params=[query("path", "the file's path relative to the "
                                                           "server's root folder", required=True)])}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        notebook = lab_notebook(self, self.get_argument("path", ""))
        view = await self.call(notebookview.notebook_view, self.project(), notebook)
        self.send(view.to_json())


class LintHandler(NbprodAPIHandler):
    path = "/notebooks/{name}/lint"
    openapi = {"get": op("A notebook's lint findings as its saved file stands (the project's "
                         "lint settings; not recorded: `nbprod lint` records)", _LINT)}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, name: str) -> None:
        view = await self.call(notebookview.lint_notebook, self.project(), name)
        self.send(view.to_json())


def form_values(body: dict[str, Any], source: str) -> dict[str, Any]:
    """``parameters`` (name -> value) and ``grid`` (name -> [values]) of a form, as typed:
    strings are read as ``-p`` reads them, other JSON values as they are."""
    values: dict[str, Any] = dict(given_parameters(body.get("parameters") or {}, strings=True,
                                                   source=source))
    grid = body.get("grid") or {}
    if not isinstance(grid, dict) or not all(isinstance(v, list) for v in grid.values()):
        raise InvalidInput(f"grid (from {source}) must be an object of name -> [values]")
    for name, items in grid.items():
        values[str(name)] = [GivenValue(v, source=f"{source} {name}", raw=isinstance(v, str))
                             for v in items]
    return values


class CheckHandler(NbprodAPIHandler):
    path = "/notebooks/{name}/check"
    openapi = {"post": op(
        "Check a form's values against the notebook's contract, each field on its own, with "
        "the messages `nbprod run` gives; nothing runs", _CHECK, body={
            "type": "object", "properties": {
                "parameters": _OBJ, "grid": _OBJ, "form": {"enum": sorted(_FORMS)}}})}

    @web.authenticated
    @authorized
    @requires("view")
    async def post(self, name: str) -> None:
        body = self.body()
        source = _FORMS.get(body.get("form") or "run")
        if source is None:
            raise InvalidInput(f"form must be one of {', '.join(sorted(_FORMS))}")
        result = await self.call(notebookview.check_form, self.project(), name,
                                 form_values(body, source))
        self.send(result.to_json())


class SweepsHandler(NbprodAPIHandler):
    path = "/sweeps"
    openapi = {"post": op(
        "Start a sweep: every point of the grid is checked against the contract first (the "
        "errors `nbprod sweep` gives), then the points run on the server's workers",
        ref("Task"), status=202, body={
            "type": "object", "required": ["notebook", "grid"], "properties": {
                "notebook": {"type": "string"}, "parameters": _OBJ,
                "grid": {"type": "object", "description": "name -> [values]"},
                "max_failures": {"type": "integer"}}})}

    @web.authenticated
    @authorized
    @requires("run")
    async def post(self) -> None:
        body = self.body()
        grid = field(body, "grid", dict, required=True)
        if not grid or not all(isinstance(v, list) and v for v in grid.values()):
            raise InvalidInput("'grid' must give each swept parameter a list of values")
        max_failures = field(body, "max_failures", int)
        if max_failures is not None and max_failures < 1:
            raise InvalidInput("'max_failures' must be at least 1")
        task = await start_sweep(self, field(body, "notebook", str, required=True), grid,
                                 body.get("parameters") or {}, max_failures)
        self.set_header("Location", self.url("api", "tasks", task.task_id))
        self.send(task.snapshot(), status=202)


async def start_sweep(handler: Any, notebook: str, grid: dict[str, list[Any]],
                      base: Any, max_failures: int | None) -> Task:
    """Check every point as ``nbprod sweep`` would, then start the sweep on the task runner."""
    from ..api.browse import project_notebook

    project = handler.project()
    path = await handler.call(project_notebook, project, notebook)
    points = grid_points([(str(k), [str(v) for v in values]) for k, values in grid.items()],
                         source="the Sweep dialog")
    fixed = given_parameters(base, strings=True, source="the Sweep dialog")
    checked = await handler.call(validate_points, project, str(path), fixed, points,
                                 project.defaults.strict)
    task = Task("sweep", handler.user_name, project.relative(path))
    app = handler.nbprod

    def work(task: Task) -> dict[str, Any]:
        total = len(checked)
        counts: collections.Counter[str] = collections.Counter()
        task.update(points_total=total, points_done=0, label=f"0 of {total} points done")

        def done(result: PointResult) -> None:
            counts[result.state] += 1
            finished = sum(counts.values())
            found = {"sweep_id": result.record.sweep_id} if result.record else {}
            task.update(points_done=finished, counts=dict(counts), **found,
                        label=f"{finished} of {total} points done")

        report = run_sweep(project, app.state.settings(), dict(os.environ), str(path), checked,
                           ThreadExecutor(app.workers), max_failures=max_failures,
                           on_done=done)
        ok = all(r.state == "succeeded" for r in report.results)
        return {"state": "succeeded" if ok else "failed", "sweep_id": report.sweep_id,
                "counts": report.counts(), "points": [r.to_json() for r in report.results]}

    started: Task = app.tasks.start(task, work)
    return started


HANDLERS: list[type[NbprodAPIHandler]] = [LabNotebookHandler, LintHandler, CheckHandler,
                                          SweepsHandler]
