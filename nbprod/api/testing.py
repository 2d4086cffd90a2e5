"""Use case: test notebooks (nbval regression and smoke runs) and record the results.

Per notebook, ``nbprod test`` decides what proves it still works:

- **regression** when it has saved outputs: nbval executes it and compares every code cell's
  outputs with the saved ones (sanitizers, numeric tolerance, images per settings);
- **smoke** when it has none, or when settings give it ``test_parameters``: a normal
  ``nbprod run`` (same execution path, timeouts and final states; a run record).

Notebooks run in parallel in forked worker processes that start with every library already
imported. Each notebook's result is recorded in the registry against its notebook version.
"""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InvalidInput
from ..executors.forkpool import Outcome, Task, run_forked
from ..notebook import GivenValue, read_notebook
from ..records import CheckRecord, RunRecord
from ..validate.config import TestConfig
from ..validate.regression import RegressionResult
from .project import Project


@dataclass(frozen=True)
class NotebookTest:
    """The outcome of testing one notebook."""

    notebook: str
    notebook_version: str | None
    regression: RegressionResult | None = None
    smoke: RunRecord | None = None
    errors: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        if self.errors:
            return False
        if self.regression is not None and not self.regression.passed:
            return False
        if self.smoke is not None and self.smoke.state != "succeeded":
            return False
        return self.regression is not None or self.smoke is not None

    def summary(self) -> str:
        parts = []
        if self.regression is not None:
            result = self.regression
            if result.passed:
                parts.append(f"regression: {result.cells_checked} cells match")
            else:
                parts.append("regression: " + "; ".join(f.message for f in result.failures[:3]))
        if self.smoke is not None:
            run = self.smoke
            text = f"smoke: {run.state} (run {run.run_id})"
            if run.failure is not None:
                text = f"smoke: failed ({run.failure.kind}): {run.failure.message}"
            parts.append(text)
        parts.extend(self.errors)
        return "; ".join(parts) or "nothing to test"

    def to_json(self) -> dict[str, Any]:
        return {
            "notebook": self.notebook, "notebook_version": self.notebook_version,
            "passed": self.passed, "summary": self.summary(), "seconds": self.seconds,
            "regression": self.regression.to_json() if self.regression else None,
            "smoke": self.smoke.to_json() if self.smoke else None,
            "errors": list(self.errors),
        }


@dataclass(frozen=True)
class TestReport:
    __test__ = False  # not a pytest test class

    results: tuple[NotebookTest, ...] = field(default_factory=tuple)
    recorded: int = 0

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


@dataclass(frozen=True)
class _Plan:
    path: Path
    shown: str
    version: str | None
    regression: bool
    smoke_parameters: Mapping[str, Any] | None  # None: no smoke run
    kernel: str | None
    error: str | None = None
    job: str | None = None  # a step of this job: its smoke run is a test run of the job
    step: str | None = None


def run_notebook_tests(project: Project, notebooks: Sequence[Path], config: TestConfig, *,
                       workers: int | None = None, record: bool = True,
                       on_done: Callable[[NotebookTest], None] | None = None) -> TestReport:
    """Test each notebook (absolute paths); results in the order given, recorded in the
    project's registry (as its acting user) unless ``record`` is false.

    Each worker is forked and opens the project again from its settings and kernel
    environment (a database connection is never shared across a fork).
    """
    if project.settings is None:
        raise InvalidInput("nbprod test needs a project opened from its settings")
    settings, environ = project.settings, project.kernel_env
    steps = _job_steps(settings)
    plans = [_plan(settings, path, config, steps) for path in notebooks]
    users = _users_of_other_jobs(settings)
    _preload()
    if any(p.smoke_parameters is not None for p in plans):
        # Created and migrated here, once: workers that each open a registry file that does
        # not exist yet, at the same moment, can lock each other out past the busy timeout
        # (CI saw "stayed locked by another process" for the first of two smoke runs).
        project.registry  # noqa: B018 - opening it is the point
    log_dir = Path(tempfile.mkdtemp(prefix="nbprod-test-"))
    budget = settings.timeout + settings.start_timeout + 60
    tasks: list[Task[Any]] = []
    later: list[Task[Any]] = []  # notebooks reading another job's files: after that job's
    pending: dict[int, set[str]] = {i: set() for i in range(len(plans))}
    jobs: dict[str, list[int]] = {}
    for index, plan in enumerate(plans):
        wave = later if plan.shown in users else tasks
        if plan.regression:
            key = f"{index}:regression"
            wave.append(Task(key, _regression_task(plan, config, settings, environ), budget,
                             log_dir / f"{index}-regression.log"))
            pending[index].add(key)
        if plan.smoke_parameters is not None and plan.job is None:
            key = f"{index}:smoke"
            wave.append(Task(key, _smoke_task(plan, settings, environ), budget,
                             log_dir / f"{index}-smoke.log"))
            pending[index].add(key)
        elif plan.smoke_parameters is not None and plan.job is not None:
            jobs.setdefault(plan.job, []).append(index)
            pending[index].add(f"job:{plan.job}")
    for job in jobs:
        steps_budget = budget * max(1, len(jobs[job]))
        wave = later if plans[jobs[job][0]].shown in users else tasks
        wave.append(Task(f"job:{job}", _job_task(job, settings, environ), steps_budget,
                          log_dir / f"job-{job}.log"))
    gathered: dict[int, list[Outcome[Any]]] = {i: [] for i in range(len(plans))}
    results: dict[int, NotebookTest] = {}

    def done(outcome: Outcome[Any]) -> None:
        if outcome.key.startswith("job:"):
            shares = [(i, _step_outcome(outcome, plans[i], i)) for i in jobs[outcome.key[4:]]]
        else:
            shares = [(int(outcome.key.split(":")[0]), outcome)]
        for index, share in shares:
            gathered[index].append(share)
            pending[index].discard(outcome.key)
            if not pending[index]:
                results[index] = _result(plans[index], gathered[index], log_dir)
                if on_done is not None:
                    on_done(results[index])

    for index, plan in enumerate(plans):
        if not pending[index]:
            results[index] = _result(plan, [], log_dir)
            if on_done is not None:
                on_done(results[index])
    for wave in (tasks, later):
        if wave:
            run_forked(wave, workers=workers or config.workers or _cores(), on_done=done)
    ordered = tuple(results[i] for i in range(len(plans)))
    recorded = _record(project, ordered, config) if record else 0
    return TestReport(results=ordered, recorded=recorded)


def _cores() -> int:
    import os

    return max(1, len(os.sched_getaffinity(0)))


def _job_steps(settings: Settings) -> dict[str, tuple[str, str]]:
    """Project-relative notebook path -> (job, step), for the first job holding each."""
    from ..jobs.spec import declared_jobs

    found: dict[str, tuple[str, str]] = {}
    for spec in declared_jobs(settings):
        if len(spec.steps) < 2:
            continue  # a one-step job tests like its notebook
        for step in spec.steps:
            found.setdefault(step.notebook, (spec.name, step.name))
    return found


def _users_of_other_jobs(settings: Settings) -> set[str]:
    """Notebooks of jobs that ``uses`` another job (their runs read its files)."""
    from ..jobs.spec import declared_jobs

    return {step.notebook for spec in declared_jobs(settings) if spec.uses is not None
            for step in spec.steps}


def _plan(settings: Settings, path: Path, config: TestConfig,
          steps: Mapping[str, tuple[str, str]]) -> _Plan:
    root = settings.project_root
    try:
        shown = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        shown = str(path)
    entry = next((e for e in settings.notebooks.values()
                  if e.path and (root / e.path).resolve() == path.resolve()), None)
    try:
        notebook = read_notebook(path)
    except InvalidInput as exc:
        return _Plan(path, shown, None, False, None, None, error=exc.one_line())
    has_outputs = any(c.get("outputs") for c in notebook.node.cells if c.cell_type == "code")
    test_parameters = dict(entry.test_parameters) if entry is not None else {}
    regression = config.regression and has_outputs
    smoke = config.smoke and (not regression or bool(test_parameters))
    kernel = (entry.kernel if entry else None) or settings.kernel
    job, step = steps.get(shown, (None, None))
    return _Plan(path, shown, notebook.version, regression,
                 test_parameters if smoke else None, kernel, job=job, step=step)


def _preload() -> None:
    """Import once in the parent what every worker needs, before forking."""
    from ..execute import engine, report
    from ..registry import Registry  # noqa: F401
    from ..validate import regression  # noqa: F401
    from . import runs  # noqa: F401

    del engine
    report.preload()


def _regression_task(plan: _Plan, config: TestConfig, settings: Settings,
                     environ: Mapping[str, str]) -> Callable[[], RegressionResult]:
    def run() -> RegressionResult:
        import json

        from ..execute.capture import CAPTURE_ENV, STEP_OUTPUTS_ENV
        from ..validate.regression import run_regression
        from .project import open_project
        from .upstream import default_upstream, fetch_upstream

        with tempfile.TemporaryDirectory(prefix="nbprod-capture-") as capture:
            # nbprod.record() in the notebook writes here instead of beside the notebook.
            env = {CAPTURE_ENV: capture}
            if plan.job is not None:  # a job step reads its upstream steps' latest files
                with open_project(settings, environ) as project:
                    folders = fetch_upstream(project, default_upstream(project, plan.shown),
                                             Path(capture) / "upstream")
                env[STEP_OUTPUTS_ENV] = json.dumps(folders)
            return run_regression(plan.path, config, shown=plan.shown, kernel=plan.kernel,
                                  cell_timeout=settings.cell_timeout,
                                  start_timeout=settings.start_timeout, env=env)
    return run


def _job_task(job: str, settings: Settings,
              environ: Mapping[str, str]) -> Callable[[], dict[str, RunRecord | str]]:
    """A test run of a whole job (its test_parameters): step -> run record, or why not run."""
    def run() -> dict[str, RunRecord | str]:
        from ..jobs.spec import job_spec
        from .jobs import JobRunRequest, run_job
        from .project import open_project

        with open_project(settings, environ) as project:
            job_run = run_job(project, job_spec(settings, job), JobRunRequest(test=True))
            return {s.step: project.registry.get_run(s.run_id) if s.run_id else
                    f"not run: an earlier step of job {job} failed (job run "
                    f"{job_run.job_run_id})" for s in job_run.steps}
    return run


def _step_outcome(outcome: Outcome[Any], plan: _Plan, index: int) -> Outcome[Any]:
    """This notebook's share of a job test run, as if it had run alone."""
    key = f"{index}:smoke"
    if not outcome.ok:
        return Outcome(key, error=f"the test run of job {plan.job} failed: {outcome.error}",
                       timed_out=outcome.timed_out, seconds=outcome.seconds)
    value = (outcome.value or {}).get(plan.step)
    if isinstance(value, RunRecord):
        return Outcome(key, value=value, seconds=outcome.seconds)
    return Outcome(key, error=str(value or f"step {plan.step} did not run"),
                   seconds=outcome.seconds)


def _smoke_task(plan: _Plan, settings: Settings,
                environ: Mapping[str, str]) -> Callable[[], RunRecord]:
    def run() -> RunRecord:
        from .project import open_project
        from .runs import RunRequest, run_notebook

        parameters = {k: GivenValue(v, source="test_parameters")
                      for k, v in (plan.smoke_parameters or {}).items()}
        with open_project(settings, environ) as project:
            return run_notebook(project, RunRequest(str(plan.path), parameters=parameters,
                                                    kernel=plan.kernel))
    return run


def _result(plan: _Plan, outcomes: list[Outcome[Any]], log_dir: Path) -> NotebookTest:
    regression: RegressionResult | None = None
    smoke: RunRecord | None = None
    errors = [plan.error] if plan.error else []
    for outcome in outcomes:
        kind = outcome.key.split(":")[1]
        if outcome.ok and kind == "regression":
            regression = outcome.value
        elif outcome.ok and kind == "smoke":
            smoke = outcome.value
        else:
            errors.append(f"{kind}: {_outcome_error(outcome, log_dir)}")
    seconds = max((o.seconds for o in outcomes), default=0.0)
    return NotebookTest(notebook=plan.shown, notebook_version=plan.version,
                        regression=regression, smoke=smoke, errors=tuple(errors),
                        seconds=seconds)


def _outcome_error(outcome: Outcome[Any], log_dir: Path) -> str:
    """The last line of the worker's error, and the tail of its log when it has one."""
    text = (outcome.error or "failed").strip()
    last = text.splitlines()[-1] if text else "failed"
    index, kind = outcome.key.split(":")
    log = log_dir / f"{index}-{kind}.log"
    tail = ""
    if log.is_file():
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
        tail = " | ".join(lines[-3:])
    return (last[:300] + (f" (worker log: {tail[:500]})" if tail else ""))


def _record(project: Project, results: Sequence[NotebookTest], config: TestConfig) -> int:
    checks = [CheckRecord(
        kind="test", notebook=r.notebook, notebook_version=r.notebook_version,
        passed=r.passed, summary=r.summary()[:1000], details=r.to_json(),
        config_digest=config.digest(), run_id=r.smoke.run_id if r.smoke else None,
        user=project.user, host=socket.gethostname())
        for r in results if r.notebook_version is not None]
    if checks:
        project.registry.checks.add(checks)
    return len(checks)
