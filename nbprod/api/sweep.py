"""Use case: a parameter sweep — many runs of one notebook, in parallel, one table of results.

Every point is checked against the notebook's parameter contract before anything runs; each
point is then a normal run (same path, same record) tagged with the sweep id and its point
number. The local executor forks workers from this process once everything is imported and a
kernel template for the notebook is warm, so a point costs its cells, not Python's start-up.
"""

from __future__ import annotations

import fnmatch
import functools
import itertools
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import EXIT_INFRA, EXIT_NOTEBOOK_FAILED, InvalidInput, ParameterError
from ..executors.base import Executor
from ..executors.forkpool import Outcome
from ..notebook.values import GivenValue, read_parameter_file, resolve_parameters
from ..records import RunRecord, new_run_id
from .cache import given_parameters, kernel_name
from .project import Project
from .runs import RunRequest


@dataclass(frozen=True)
class SweepPoint:
    index: int
    given: Mapping[str, GivenValue]
    coerced: Mapping[str, Any] = field(default_factory=dict)  # after the contract's types
    secrets: tuple[str, ...] = ()  # secret parameters given with the point (shown as ***)

    def shown(self) -> dict[str, Any]:
        """The point's parameters as the notebook gets them (``"10"`` from --grid is 10)."""
        return {k: self.coerced.get(k, v.value) for k, v in self.given.items()}


@dataclass(frozen=True)
class PointResult:
    index: int
    parameters: Mapping[str, Any]
    record: RunRecord | None = None
    error: str | None = None
    skipped: bool = False

    @property
    def state(self) -> str:
        if self.record is not None:
            return self.record.state
        return "skipped" if self.skipped else "lost"

    def to_json(self) -> dict[str, Any]:
        record = self.record
        return {"point": self.index, "parameters": dict(self.parameters), "state": self.state,
                "run_id": record.run_id if record else None,
                "values": dict(record.values) if record else {},
                "failure": record.failure.to_json() if record and record.failure else None,
                "cache_hit": bool(record and record.cache_hit), "error": self.error}


@dataclass(frozen=True)
class SweepReport:
    sweep_id: str
    notebook: str
    results: tuple[PointResult, ...] = field(default_factory=tuple)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.state] = counts.get(result.state, 0) + 1
        return counts

    @property
    def lost(self) -> list[PointResult]:
        return [r for r in self.results if r.state == "lost"]

    def sorted_by(self, value: str | None) -> list[PointResult]:
        if not value:
            return list(self.results)
        descending = not value.startswith("-")
        name = value.lstrip("-+")

        def key(result: PointResult) -> tuple[int, float]:
            found = result.record.values.get(name) if result.record else None
            if isinstance(found, bool) or not isinstance(found, int | float):
                return (1, 0.0)
            return (0, -float(found) if descending else float(found))

        return sorted(self.results, key=key)

    def to_json(self) -> dict[str, Any]:
        return {"sweep_id": self.sweep_id, "notebook": self.notebook, "counts": self.counts(),
                "points": [r.to_json() for r in self.results]}

    @property
    def exit_code(self) -> int:
        """4 when a point was lost, 3 when one failed, else 0 (skipped points do not count)."""
        counts = self.counts()
        if counts.get("lost"):
            return EXIT_INFRA
        failed = sum(n for state, n in counts.items() if state not in ("succeeded", "skipped"))
        return EXIT_NOTEBOOK_FAILED if failed else 0


@dataclass(frozen=True)
class PointSpec:
    """Where a sweep's points come from, as the CLI gives them."""

    grid: Sequence[str] = ()  # "NAME=v1,v2,..."
    values_file: Path | None = None
    random_count: int | None = None
    ranges: Sequence[str] = ()  # "NAME=LOW:HIGH" or "NAME=a|b|c"
    seed: int | None = None


def assemble_points(spec: PointSpec) -> list[dict[str, GivenValue]]:
    """Every point: the grid's product, then the values file's, then the random draws."""
    points: list[dict[str, GivenValue]] = []
    if spec.grid:
        grid = [_named(item, "--grid", "NAME=v1,v2,...") for item in spec.grid]
        points += grid_points([(name, [v.strip() for v in rest.split(",")])
                               for name, rest in grid])
    if spec.values_file is not None:
        points += file_points(spec.values_file)
    if spec.random_count:
        if not spec.ranges:
            raise InvalidInput("--random needs at least one --range NAME=LOW:HIGH")
        ranges = [_named(item, "--range", "NAME=LOW:HIGH or NAME=a|b|c") for item in spec.ranges]
        points += random_points(spec.random_count, ranges, spec.seed)
    return points


def _named(item: str, option: str, usage: str) -> tuple[str, str]:
    """``NAME=rest`` of a --grid or --range option."""
    name, sep, rest = item.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise InvalidInput(f"{option} {item!r}: use {usage}")
    return name.strip(), rest.strip()


def grid_points(grid: Sequence[tuple[str, Sequence[str]]],
                source: str = "--grid") -> list[dict[str, GivenValue]]:
    """The cartesian product of ``--grid NAME=a,b,c`` options (strings, as typed)."""
    names = [name for name, _ in grid]
    return [{name: GivenValue(value, source=f"{source} {name}", raw=True)
             for name, value in zip(names, combo, strict=True)}
            for combo in itertools.product(*[values for _, values in grid])]


def file_points(path: Path) -> list[dict[str, GivenValue]]:
    """``--values FILE``: a YAML/JSON list of parameter mappings."""
    import yaml

    from ..notebook.values import PlainLoader

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=PlainLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ParameterError(f"cannot read sweep values {path}: {exc}") from None
    except RecursionError:
        raise ParameterError(f"cannot read sweep values {path}: nested too deeply") from None
    if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
        if isinstance(data, dict):  # a single mapping file is one point
            return [read_parameter_file(path)]
        raise ParameterError(f"{path}: must be a list of parameter mappings")
    return [{str(k): GivenValue(v, source=f"{path.name} point {i}") for k, v in p.items()}
            for i, p in enumerate(data)]


def random_points(count: int, ranges: Sequence[tuple[str, str]],
                  seed: int | None) -> list[dict[str, GivenValue]]:
    """``--random N`` over ``--range NAME=LOW:HIGH`` (ints if both ends are ints) or
    ``NAME=a|b|c`` (a choice)."""
    rng = random.Random(seed)
    parsed: list[tuple[str, Callable[[], Any]]] = []
    for name, spec in ranges:
        if "|" in spec:
            parsed.append((name, functools.partial(rng.choice, spec.split("|"))))
            continue
        low, sep, high = spec.partition(":")
        if not sep:
            raise ParameterError(f"--range {name}={spec}: use LOW:HIGH or a|b|c")
        try:
            if low.strip().lstrip("-").isdigit() and high.strip().lstrip("-").isdigit():
                parsed.append((name, functools.partial(rng.randint, int(low), int(high))))
            else:
                parsed.append((name, functools.partial(rng.uniform, float(low), float(high))))
        except ValueError:
            raise ParameterError(f"--range {name}={spec}: LOW and HIGH must be numbers") \
                from None
    return [{name: GivenValue(draw(), source=f"--random {name}") for name, draw in parsed}
            for _ in range(count)]


def validate_points(project: Project, notebook: str, base: Mapping[str, GivenValue],
                    points: Sequence[Mapping[str, GivenValue]],
                    strict: bool = True) -> list[SweepPoint]:
    """Every point checked against the contract; the first bad one is a ParameterError."""
    from ..notebook import contract_of, read_notebook
    from ..notebook.secrets import recorded, split_secrets

    if not points:
        raise InvalidInput("the sweep has no points", hint="give --grid, --values or --random")
    path, entry = project.resolve_notebook(notebook)
    contract = contract_of(read_notebook(path), strict=strict)
    checked = []
    for index, point in enumerate(points):
        given = given_parameters(entry, base, point)
        try:
            coerced = resolve_parameters(contract, given, strict=strict)
        except ParameterError as exc:
            shown = ", ".join(f"{k}={v.value}" for k, v in point.items())
            raise ParameterError(f"sweep point {index} ({shown}): {exc.message}",
                                 parameter=exc.parameter, hint=exc.hint) from None
        public, secrets = split_secrets(contract, coerced, project.kernel_env)
        given_secrets = tuple(n for n in secrets.names if n in coerced)
        checked.append(SweepPoint(index, {**base, **point}, recorded(public, secrets),
                                  given_secrets))
    return checked


@dataclass(frozen=True)
class _Task:
    settings: Settings
    environ: Mapping[str, str]  # only what a run needs (task_environment), not os.environ
    request: RunRequest


def task_environment(environ: Mapping[str, str], pass_env: Sequence[str] = ()
                     ) -> dict[str, str]:
    """The variables a sweep task carries to its worker: ``NBPROD_*`` (settings and
    ``NBPROD_SECRET_*`` parameters) and the names or ``fnmatch`` patterns the project's
    ``pass_env`` setting lists. A Dask task is pickled to the scheduler and the workers;
    everything else (cloud credentials, tokens) stays in this process."""
    return {k: v for k, v in environ.items()
            if k.startswith("NBPROD_") or any(fnmatch.fnmatchcase(k, p) for p in pass_env)}


def _check_channel(executor: Executor, environ: Mapping[str, str],
                   points: Sequence[SweepPoint]) -> None:
    """Secret values go to workers only over a private channel (TLS, or this machine)."""
    secrets = sorted({k for k in environ if k.startswith("NBPROD_SECRET_")} |
                     {f"parameter {n}" for p in points for n in p.secrets})
    if secrets and not getattr(executor, "private", True):
        raise InvalidInput(
            f"the sweep would send {', '.join(secrets)} to the Dask scheduler over an "
            "unencrypted connection", hint="use a tls:// scheduler address (see docs/sweep.md)"
                                            " or give the secret in the workers' environment")


# Projects a worker process has opened, by settings and environment. Module-level: Dask
# unpickles a new PointRunner for every task, so an attribute would not outlive a point.
_OPEN_PROJECTS: dict[tuple[Any, ...], Project] = {}


class PointRunner:
    """Runs points in a worker (forked child or Dask worker), keeping its project open."""

    def __call__(self, task: _Task) -> RunRecord:
        from .project import open_project
        from .runs import run_notebook

        settings = task.settings
        key = (str(settings.project_root), settings.registry_url, settings.store_url,
               tuple(sorted(task.environ.items())))
        project = _OPEN_PROJECTS.get(key)
        if project is None:
            # The worker's own environment, with what the task brought over it.
            environ = {**os.environ, **task.environ}
            project = _OPEN_PROJECTS[key] = open_project(task.settings, environ)
        return run_notebook(project, task.request)


class OpenProjectRunner:
    """Runs points on the caller's open project, for executors that run tasks in this
    process (threads): the project's acting user and registry connection are kept."""

    def __init__(self, project: Project) -> None:
        self.project = project

    def __call__(self, task: _Task) -> RunRecord:
        from .runs import run_notebook

        return run_notebook(self.project, task.request)


def run_sweep(project: Project, settings: Settings, environ: Mapping[str, str],
              notebook: str, points: Sequence[SweepPoint], executor: Executor, *,
              cache: bool = False, max_failures: int | None = None,
              kernel: str | None = None, strict: bool | None = None,
              on_done: Callable[[PointResult], None] | None = None) -> SweepReport:
    """Run every point; the sweep stops starting points after ``max_failures`` failures."""
    sweep_id = new_run_id()
    path, _ = project.resolve_notebook(notebook)
    shown = project.relative(path)
    base = RunRequest(notebook=str(path), strict=strict, kernel=kernel, cache=cache,
                      wait_for_template=True, sweep_id=sweep_id)
    _warm_up(project, base)
    carried = task_environment(environ, settings.pass_env)
    tasks = [(str(p.index), _Task(settings, carried, replace(base, parameters=dict(p.given),
                                                             point=p.index)))
             for p in points]
    by_index = {p.index: p for p in points}
    results: dict[int, PointResult] = {}
    failures = 0

    def done(outcome: Outcome[Any]) -> None:
        nonlocal failures
        index = int(outcome.key)
        parameters = by_index[index].shown()
        if outcome.ok:
            result = PointResult(index, parameters, record=outcome.value)
        else:
            result = PointResult(index, parameters, error=outcome.error,
                                 skipped=outcome.skipped)
        if result.state != "succeeded" and not result.skipped:
            failures += 1
        results[index] = result
        if on_done is not None:
            on_done(result)

    budget = project.defaults.timeout + project.defaults.start_timeout + 60
    stop = (lambda: failures >= max_failures) if max_failures else None
    runner = OpenProjectRunner(project) if getattr(executor, "in_process", False) \
        else PointRunner()
    try:
        _check_channel(executor, carried, points)
        executor.run(runner, tasks, timeout=budget, on_done=done, stop_when=stop)
        report = _settle(project, _report(sweep_id, shown, points, results))
        # A point whose worker vanished before it started (no run recorded) is an
        # infrastructure failure: it is submitted once more. A started one is never re-run.
        again = {r.index for r in report.results if r.record is None and not r.skipped}
        if again:
            failures -= len(again)
            executor.run(runner, [t for t in tasks if int(t[0]) in again],
                         timeout=budget, on_done=done, stop_when=stop)
            report = _settle(project, _report(sweep_id, shown, points, results))
    finally:
        executor.close()
    return report


def _report(sweep_id: str, shown: str, points: Sequence[SweepPoint],
            results: Mapping[int, PointResult]) -> SweepReport:
    return SweepReport(sweep_id, shown, tuple(
        results.get(p.index, PointResult(p.index, p.shown(), skipped=True, error="never ran"))
        for p in points))


def _warm_up(project: Project, request: RunRequest) -> None:
    """Import and warm what every point needs, and the kernel template, before forking."""
    from ..execute import engine  # noqa: F401
    from ..execute.report import warm_exporter
    from ..notebook import read_notebook

    warm_exporter()
    path, entry = project.resolve_notebook(request.notebook)
    notebook = read_notebook(path)
    if project.defaults.fast_kernels:
        from ..execute.fast import choose_kernel

        choose_kernel((c.source for c in notebook.node.cells if c.cell_type == "code"),
                      kernel_name(project, request.kernel, entry, notebook.kernel_name),
                      enabled=True,
                      wait=True, env=project.kernel_env,
                      cwd=Path(request.cwd or notebook.path.parent),
                      idle=project.defaults.template_idle,
                      limits=project.defaults.template_limits)


def _settle(project: Project, report: SweepReport) -> SweepReport:
    """Points whose worker died: their run is found and reaped as ``lost``."""
    project.reap_lost()
    if not any(r.record is None and not r.skipped for r in report.results):
        return report
    runs = {r.point: r for r in project.registry.list_runs(sweep_id=report.sweep_id)}
    settled = []
    for result in report.results:
        record = runs.get(result.index)
        if result.record is None and not result.skipped and record is not None:
            from .cache import located

            result = replace(result, record=located(project, record))
        settled.append(result)
    return replace(report, results=tuple(settled))


def sweep_runs(project: Project, sweep_id: str) -> list[RunRecord]:
    from .cache import located

    project.reap_lost()
    full = project.registry.resolve_sweep_id(sweep_id)
    return [located(project, r) for r in project.registry.list_runs(sweep_id=full)]
