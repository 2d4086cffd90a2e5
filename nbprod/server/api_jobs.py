"""REST handlers for jobs: list, overview, versions (and building one), stages, gate verdicts,
job runs (and starting one), promote, approve, rollback, the audit log, and tasks."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..api import joboverview
from ..api.jobs import JobRunRequest, build_job, check_job_request, list_job_runs
from ..api.promotion import approve, audit_log, promote, rollback
from ..errors import InvalidInput
from .api_runs import given_parameters, int_argument
from .base import NbprodAPIHandler, requires
from .events import job_run_progress, stream
from .openapi import array, op, query, ref
from .tasks import Task, job_work

_OBJECT = {"type": "object"}


def field(body: dict[str, Any], name: str, kind: type, *, required: bool = False) -> Any:
    """``body[name]`` if it has type ``kind`` (400 otherwise)."""
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidInput(f"'{name}' is required")
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidInput(f"'{name}' must be {'a whole number' if kind is int else kind.__name__}"
                           f", got {str(value)[:40]!r}")
    return value


class JobsHandler(NbprodAPIHandler):
    path = "/jobs"
    openapi = {"get": op("The jobs declared in [tool.nbprod.jobs] and where their stages point",
                         array(ref("JobSummary")))}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        jobs = await self.call(joboverview.list_jobs, self.project())
        self.send([j.to_json() for j in jobs])


class JobHandler(NbprodAPIHandler):
    path = "/jobs/{job}"
    openapi = {"get": op("Everything about a job: declaration, stages and their history, the "
                         "newest versions with each stage's gate verdict and approvals, job "
                         "runs, audit", ref("JobOverview"))}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, job: str) -> None:
        overview = await self.call(joboverview.job_overview, self.project(), job)
        self.send(overview.to_json())


class VersionsHandler(NbprodAPIHandler):
    path = "/jobs/{job}/versions"
    openapi = {
        "get": op("A job's built versions, newest first", array(ref("JobVersion"))),
        "post": op("Build a version (the same content gives the same version back)",
                   ref("JobVersion"), status=201, body=_OBJECT)}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, job: str) -> None:
        project = self.project()
        spec = await self.call(joboverview.job, project, job)
        versions = await self.call(project.registry.jobs.versions, spec.name)
        self.send([v.to_json() for v in versions])

    @web.authenticated
    @authorized
    @requires("run")
    async def post(self, job: str) -> None:
        project = self.project()
        spec = await self.call(joboverview.job, project, job)
        built = await self.call(build_job, project, spec)
        self.send({**built.version.to_json(), "created": built.created},
                  status=201 if built.created else 200)


class StagesHandler(NbprodAPIHandler):
    path = "/jobs/{job}/stages"
    openapi = {"get": op("Each stage's pointer, its history and what a rollback restores",
                         array(ref("Stage")))}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, job: str) -> None:
        overview = await self.call(joboverview.job_overview, self.project(), job, versions=0)
        self.send([s.to_json() for s in overview.stages])


class VerdictHandler(NbprodAPIHandler):
    path = "/jobs/{job}/verdict"
    openapi = {"get": op("The gate verdict for promoting a version into a stage (a dry run: "
                         "nothing moves, nothing is audited)", ref("Verdict"), params=[
                             query("version", "the job version", {"type": "integer"}, True),
                             query("stage", "the target stage", required=True)])}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, job: str) -> None:
        stage = self.get_argument("stage", "")
        if not stage:
            raise InvalidInput("verdict needs stage=")
        result = await self.call(joboverview.verdict, self.project(), job,
                                 int_argument(self, "version", 0), stage)
        self.send(result.to_json())


class JobRunsHandler(NbprodAPIHandler):
    path = "/jobs/{job}/runs"
    openapi = {
        "get": op("A job's runs, newest first", array(ref("JobRun")),
                  params=[query("limit", "how many (default 20)", {"type": "integer"})]),
        "post": op("Run the job (the working tree, a version, or the version a stage points "
                   "at); parameters are checked against each step's contract first",
                   ref("Task"), status=202, body={"type": "object", "properties": {
                       "stage": {"type": "string"}, "version": {"type": "integer"},
                       "from_step": {"type": "string"}, "test": {"type": "boolean"},
                       "parameters": {"type": "object", "description":
                                      "step -> name -> value; step '*' for every step "
                                      "that declares the name"}}})}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, job: str) -> None:
        project = self.project()
        spec = await self.call(joboverview.job, project, job)
        runs = await self.call(list_job_runs, project, spec.name,
                               limit=int_argument(self, "limit", 20))
        self.send([r.to_json() for r in runs])

    @web.authenticated
    @authorized
    @requires("run")
    async def post(self, job: str) -> None:
        body = self.body()
        raw = field(body, "parameters", dict) or {}
        request = JobRunRequest(
            stage=field(body, "stage", str), version=field(body, "version", int),
            from_step=field(body, "from_step", str), test=bool(field(body, "test", bool)),
            parameters={str(step): given_parameters(values) for step, values in raw.items()})
        task = await start_job_run(self, job, request)
        self.set_header("Location", self.url("api", "tasks", task.task_id))
        self.send(task.snapshot(), status=202)


async def start_job_run(handler: Any, job: str, request: JobRunRequest) -> Task:
    """Check a job run request as the CLI would, then start it on the task runner."""
    if request.stage is not None and request.version is not None:
        raise InvalidInput("give stage or version, not both")
    project = handler.project()
    spec = await handler.call(joboverview.job, project, job)
    await handler.call(check_job_request, project, spec, request)
    task = Task("job_run", handler.user_name, spec.name)
    started: Task = handler.nbprod.tasks.start(task, job_work(project, spec, request))
    return started


class PromotionsHandler(NbprodAPIHandler):
    path = "/jobs/{job}/promotions"
    openapi = {"post": op(
        "Promote a version to a stage behind its gates (403 without the role, 409 with every "
        "gate's result when one fails); every attempt is audited", ref("Promotion"), body={
            "type": "object", "required": ["version", "stage"], "properties": {
                "version": {"type": "integer"}, "stage": {"type": "string"},
                "reason": {"type": "string"}, "force": {"type": "boolean"},
                "dry_run": {"type": "boolean"}}}, errors=("409",))}

    @web.authenticated
    @authorized
    @requires("promote", audited=True)
    async def post(self, job: str) -> None:
        body = self.body()
        project = self.project()
        spec = await self.call(joboverview.job, project, job)
        outcome = await self.call(
            promote, project, spec, field(body, "version", int, required=True),
            field(body, "stage", str, required=True), force=bool(field(body, "force", bool)),
            reason=field(body, "reason", str), dry_run=bool(field(body, "dry_run", bool)))
        self.send(outcome.to_json())


class ApprovalsHandler(NbprodAPIHandler):
    path = "/jobs/{job}/approvals"
    openapi = {"post": op(
        "Approve a version for a stage (never your own build)", _OBJECT, status=201, body={
            "type": "object", "required": ["version"], "properties": {
                "version": {"type": "integer"}, "stage": {"type": "string"},
                "comment": {"type": "string"}}}, errors=("409",))}

    @web.authenticated
    @authorized
    @requires("approve", audited=True)
    async def post(self, job: str) -> None:
        body = self.body()
        project = self.project()
        spec = await self.call(joboverview.job, project, job)
        version = field(body, "version", int, required=True)
        stage = field(body, "stage", str) or "production"
        approvals = await self.call(approve, project, spec, version, stage,
                                    field(body, "comment", str))
        self.send({"job": spec.name, "version": version, "stage": stage,
                   "approvals": [{"approver": u, "at": at.isoformat()} for u, at in approvals]},
                  status=201)


class RollbacksHandler(NbprodAPIHandler):
    path = "/jobs/{job}/rollbacks"
    openapi = {"post": op("Point a stage back at the version it held before",
                          ref("StagePointer"), body={
                              "type": "object", "required": ["stage"], "properties": {
                                  "stage": {"type": "string"}, "reason": {"type": "string"}}},
                          errors=("409",))}

    @web.authenticated
    @authorized
    @requires("promote", audited=True)
    async def post(self, job: str) -> None:
        body = self.body()
        project = self.project()
        spec = await self.call(joboverview.job, project, job)
        pointer = await self.call(rollback, project, spec,
                                  field(body, "stage", str, required=True),
                                  reason=field(body, "reason", str))
        self.send(pointer.to_json())


class JobRunHandler(NbprodAPIHandler):
    path = "/job-runs/{job_run_id}"
    openapi = {"get": op("One job run and its steps", ref("JobRun"))}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, job_run_id: str) -> None:
        job_run = await self.call(joboverview.job_run, self.project(), job_run_id)
        self.send(job_run.to_json())


class JobRunEventsHandler(NbprodAPIHandler):
    path = "/job-runs/{job_run_id}/events"
    openapi = {"get": op("A job run's progress as server-sent events (step, cell N of M, "
                         "elapsed, state)", ref("Progress"), content_type="text/event-stream")}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, job_run_id: str) -> None:
        project = self.project()
        first = await self.call(joboverview.job_run, project, job_run_id)

        async def poll() -> dict[str, Any]:
            latest = await self.call(project.registry.jobs.run, first.job_run_id)
            task = self.nbprod.tasks.find(job_run_id=first.job_run_id)
            return job_run_progress(latest, task)

        await stream(self, poll, interval=0.5)


class AuditHandler(NbprodAPIHandler):
    path = "/audit"
    openapi = {"get": op("The audit log, newest first: builds, promotions, approvals, "
                         "rollbacks, refusals", array(ref("AuditEntry")), params=[
                             query("job", "one job"),
                             query("limit", "how many (default 100)", {"type": "integer"})])}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        entries = await self.call(audit_log, self.project(),
                                  self.get_argument("job", None) or None,
                                  limit=int_argument(self, "limit", 100))
        self.send([e.to_json() for e in entries])


class TasksHandler(NbprodAPIHandler):
    path = "/tasks"
    openapi = {"get": op("Runs and job runs this server started recently", array(ref("Task")))}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self) -> None:
        self.send([t.snapshot() for t in self.nbprod.tasks.recent()])


class TaskHandler(NbprodAPIHandler):
    path = "/tasks/{task_id}"
    openapi = {"get": op("One task: state, run or job run, cell N of M, elapsed, result",
                         ref("Task"))}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, task_id: str) -> None:
        self.send(self.nbprod.tasks.get(task_id).snapshot())


class TaskEventsHandler(NbprodAPIHandler):
    path = "/tasks/{task_id}/events"
    openapi = {"get": op("A task's progress as server-sent events, until it is final",
                         ref("Task"), content_type="text/event-stream")}

    @web.authenticated
    @authorized
    @requires("view")
    async def get(self, task_id: str) -> None:
        task = self.nbprod.tasks.get(task_id)

        async def poll() -> dict[str, Any]:
            return task.snapshot()

        await stream(self, poll, interval=0.25)

