"""Long actions started from the server (runs, job runs): they return at once with a task id,
run on their own thread, and report progress the dashboard and the REST clients stream.

A task's progress is a small JSON object (:meth:`Task.snapshot`): state, the run or job run it
made, the step, ``cell`` of ``cells``, the current cell's first line, elapsed seconds, and at
the end the result or the error. Threads are daemons: stopping the server abandons a run in
progress, which readers then see as ``lost`` (as for any runner that vanished).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .. import api
from ..errors import NbprodError, NotFound
from ..records import JobRun, StepResult

FINAL = frozenset({"succeeded", "failed", "error"})
_KEEP = 200  # finished tasks remembered


class Task:
    """One long action and its progress (updated by its thread, read by handlers)."""

    def __init__(self, kind: str, user: str, target: str) -> None:
        self.task_id = f"t{int(time.time())}-{secrets.token_hex(4)}"
        self.kind = kind
        self.user = user
        self.target = target
        self._lock = threading.Lock()
        self._fields: dict[str, Any] = {"state": "queued", "run_id": None,
                                        "job_run_id": None, "notebook": None, "step": None,
                                        "steps_done": 0,
                                        "steps_total": None, "cell": None, "cells": None,
                                        "label": "waiting for a free worker",
                                        "result": None, "error": None}
        self.created = time.time()
        self.started: float | None = None
        self.ended: float | None = None
        self.revision = 0
        self.run_started = threading.Event()

    def update(self, **fields: Any) -> None:
        with self._lock:
            self._fields.update(fields)
            self.revision += 1
            if fields.get("state") == "running" and self.started is None:
                self.started = time.time()
            if fields.get("state") in FINAL:
                self.ended = time.time()
        if fields.get("run_id") or fields.get("job_run_id") or fields.get("state") in FINAL:
            self.run_started.set()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            fields = dict(self._fields)
            started, ended = self.started, self.ended
        elapsed = ((ended or time.time()) - started) if started else 0.0
        return {"task_id": self.task_id, "kind": self.kind, "user": self.user,
                "target": self.target, **fields, "elapsed": round(elapsed, 1),
                "final": fields["state"] in FINAL}

    @property
    def final(self) -> bool:
        return bool(self.snapshot()["final"])


class _Progress(api.RunObserver):
    """Feeds a run's progress (cell N of M) into its task."""

    def __init__(self, task: Task, steps: list[str] | None = None) -> None:
        self.task = task
        self.steps = steps or []
        self.position = 0

    def run_started(self, run_id: str, notebook: str, total_cells: int) -> None:
        self.position = 0
        done = int(self.task.snapshot()["steps_done"])
        step = self.steps[min(done, len(self.steps) - 1)] if self.steps else None
        # cells comes with the first cell: the executed notebook's count (with the injected
        # parameters cell), which the input's total_cells does not know.
        self.task.update(run_id=run_id, notebook=notebook, step=step, cell=0, cells=None,
                         label="starting the kernel")

    def cell_started(self, index: int | None, total: int, label: str) -> None:
        self.position += 1
        self.task.update(cell=min(self.position, total), cells=total,
                         label=label if index is not None else "injected parameters")

    def finishing(self) -> None:
        self.task.update(label="storing artifacts")


class TaskRunner:
    """Runs tasks on daemon threads, at most ``workers`` at once; remembers recent ones."""

    def __init__(self, workers: int, log: logging.Logger) -> None:
        self.log = log
        self._slots = threading.BoundedSemaphore(max(1, workers))
        self._lock = threading.Lock()
        self._tasks: OrderedDict[str, Task] = OrderedDict()

    def start(self, task: Task, work: Callable[[Task], dict[str, Any]]) -> Task:
        with self._lock:
            self._tasks[task.task_id] = task
            while len(self._tasks) > _KEEP:
                oldest = next(iter(self._tasks))
                if not self._tasks[oldest].final:
                    break
                self._tasks.popitem(last=False)
        threading.Thread(target=self._run, args=(task, work), daemon=True,
                         name=f"nbprod-{task.task_id}").start()
        return task

    def _run(self, task: Task, work: Callable[[Task], dict[str, Any]]) -> None:
        with self._slots:
            task.update(state="running", label="starting")
            try:
                result = work(task)
            except NbprodError as exc:
                task.update(state="error", label="refused", error={
                    "type": type(exc).__name__, "message": exc.one_line(),
                    "exit_code": exc.exit_code})
                return
            except Exception as exc:  # a bug: logged with its traceback, not shown
                self.log.exception("nbprod task %s failed", task.task_id)
                task.update(state="error", label="internal error", error={
                    "type": "InternalError", "exit_code": 70,
                    "message": f"internal error ({type(exc).__name__}); see the server log"})
                return
            task.update(state=result.get("state", "succeeded"), label="done", result=result)

    def get(self, task_id: str) -> Task:
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None:
            raise NotFound(f"no task '{task_id[:60]}' on this server",
                           hint="tasks are kept while the server runs; look the run up instead")
        return task

    def find(self, *, run_id: str | None = None, job_run_id: str | None = None) -> Task | None:
        """The newest task that made this run or job run, if this server started it."""
        with self._lock:
            tasks = list(self._tasks.values())
        for task in reversed(tasks):
            fields = task.snapshot()
            if (run_id and fields["run_id"] == run_id) or \
                    (job_run_id and fields["job_run_id"] == job_run_id):
                return task
        return None

    def recent(self, limit: int = 20) -> list[Task]:
        with self._lock:
            return list(reversed(self._tasks.values()))[:limit]


def run_work(project: api.Project, request: api.RunRequest) -> Callable[[Task], dict[str, Any]]:
    """A task body that runs one notebook and returns its record's summary."""
    def work(task: Task) -> dict[str, Any]:
        record = api.run_notebook(project, request, _Progress(task))
        return {"state": record.state, "run_id": record.run_id,
                "failure": record.failure.to_json() if record.failure else None}
    return work


def job_work(project: api.Project, spec: Any,
             request: Any) -> Callable[[Task], dict[str, Any]]:
    """A task body that runs a job (every step) and returns the job run's summary."""
    from ..api.jobs import run_job

    def work(task: Task) -> dict[str, Any]:
        names = [s.name for s in spec.steps]
        # each step named from the moment it is next, not only once its kernel starts: a
        # step that runs in a fraction of a second is still seen as itself
        task.update(steps_total=len(names), step=names[0] if names else None)

        def on_start(job_run: JobRun) -> None:
            task.update(job_run_id=job_run.job_run_id)

        def on_step(step: StepResult) -> None:
            done = int(task.snapshot()["steps_done"]) + 1
            task.update(steps_done=done, step=names[min(done, len(names) - 1)])

        job_run = run_job(project, spec, request, _Progress(task, names),
                          on_step=on_step, on_start=on_start)
        return {"state": job_run.state, "job_run_id": job_run.job_run_id,
                "failure": job_run.failure.to_json() if job_run.failure else None}
    return work
