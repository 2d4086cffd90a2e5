"""Use cases: build a job version, run a job (working tree, a version, or a stage's version).

A job run is a parent record with one normal run per step, in order. Each step reads the
files earlier steps wrote (``nbprod.step_path``); a failed step stops the job run with that
step's failure. With ``cache`` a step whose run key (code, parameters, inputs, environment
and the runs of the steps before it) matches a succeeded run reuses that run. ``from_step``
resumes the latest failed job run of the same source: the steps before it are reused (their
runs are linked, not repeated).
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidInput, NotFound
from ..jobs.bundle import build_manifest, materialize, put_manifest
from ..jobs.lock import environment_lock
from ..jobs.spec import JobSpec
from ..lineage import this_runner
from ..notebook import GivenValue, contract_of, read_notebook
from ..records import Failure, JobRun, JobVersion, StepResult, new_run_id, utcnow
from .project import Project
from .runs import RunObserver, RunRequest, run_notebook


@dataclass(frozen=True)
class BuildResult:
    version: JobVersion
    created: bool


def build_job(project: Project, spec: JobSpec) -> BuildResult:
    """An immutable version of ``spec``: the same content gives the same version back."""
    lock = environment_lock(project.root)
    manifest = build_manifest(spec, project.root, project.store, lock)
    version, created = project.registry.jobs.add_version(
        spec.name, manifest.digest, manifest.content, project.user,
        os_user=project.os_user or None, claimed_user=project.claimed_user)
    put_manifest(project.store, spec.name, version.version, version.manifest)
    return BuildResult(version=version, created=created)


@dataclass(frozen=True)
class JobRunRequest:
    """Which source to run (working tree, ``version`` or ``stage``), from which step, with
    which parameters: ``parameters[step][name]``, where step ``"*"`` means every step that
    declares ``name``."""

    version: int | None = None
    stage: str | None = None
    from_step: str | None = None
    parameters: Mapping[str, Mapping[str, GivenValue]] = field(default_factory=dict)
    test: bool = False  # use the job's test_parameters
    cache: bool = False  # reuse a succeeded run with a step's run key instead of executing it


def scoped_parameters(pairs: Sequence[tuple[str, str]], source: str = "-p"
                      ) -> dict[str, dict[str, GivenValue]]:
    """``-p NAME VALUE`` (every step that declares NAME, step ``"*"``) and ``-p STEP.NAME
    VALUE`` (that step only), as :attr:`JobRunRequest.parameters`."""
    given: dict[str, dict[str, GivenValue]] = {}
    for key, value in pairs:
        step, _, name = key.rpartition(".")
        given.setdefault(step or "*", {})[name] = GivenValue(value, source=source, raw=True)
    return given


def run_job(project: Project, spec: JobSpec, request: JobRunRequest,
            observer: RunObserver | None = None,
            on_step: Any = None, on_start: Any = None) -> JobRun:
    """Run the job's steps in order as one job run; return it in its final state.

    ``on_start(job_run)`` is called once the job run is recorded, ``on_step(step_result)``
    after each step.
    """
    version = _resolve_version(project, spec, request)
    used = used_steps(project, spec, strict=version is not None)
    with tempfile.TemporaryDirectory(prefix="nbprod-bundle-") as tmp:
        if version is not None:
            manifest = version.manifest
            notebooks = materialize(manifest, project.store, Path(tmp))
            steps = [(s["name"], s["notebook"]) for s in manifest["steps"]]
            defaults = manifest.get("test_parameters" if request.test else "parameters", {})
        else:
            steps = [(s.name, s.notebook) for s in spec.steps]
            notebooks = {name: project.root / path for name, path in steps}
            defaults = spec.test_parameters if request.test else spec.parameters
        reused = _reused_steps(project, spec, version, request.from_step, steps)
        job_run = JobRun(job_run_id=new_run_id(), job=spec.name,
                         version=version.version if version else None, stage=request.stage,
                         state="running", started_at=utcnow(), user=project.user,
                         steps=tuple(StepResult(name, None, "pending") for name, _ in steps),
                         resumed_from=reused[0] if reused else None)
        project.registry.jobs.create_run(job_run, this_runner())
        if on_start is not None:
            on_start(job_run)
        results = _run_steps(project, job_run, steps, notebooks, defaults, request,
                             reused[1] if reused else {}, observer, on_step, used)
    failed = next((r for r in results if r.state in ("failed", "lost")), None)
    failure = None
    if failed is not None:
        record = project.registry.get_run(failed.run_id) if failed.run_id else None
        inner = record.failure if record is not None else None
        message = f"step {failed.step} failed" + (f": {inner.message}" if inner else "")
        failure = dataclasses.replace(inner, message=message) if inner else \
            Failure(kind="infra", message=message)
    project.registry.jobs.finish_run(job_run.job_run_id,
                                     state="failed" if failed else "succeeded",
                                     failure=failure, steps=results)
    return project.registry.jobs.run(job_run.job_run_id)


def check_job_request(project: Project, spec: JobSpec, request: JobRunRequest) -> None:
    """Raise what :func:`run_job` would refuse, before anything runs: an unknown stage or
    version, a step to resume from without a failed run, parameters that do not fit a step's
    contract (the errors ``nbprod job run`` gives)."""
    from ..notebook.values import resolve_parameters

    version = _resolve_version(project, spec, request)
    with tempfile.TemporaryDirectory(prefix="nbprod-check-") as tmp:
        if version is not None:
            notebooks = materialize(version.manifest, project.store, Path(tmp))
            steps = [(s["name"], s["notebook"]) for s in version.manifest["steps"]]
            defaults = version.manifest.get(
                "test_parameters" if request.test else "parameters", {})
        else:
            steps = [(s.name, s.notebook) for s in spec.steps]
            notebooks = {name: project.root / path for name, path in steps}
            defaults = spec.test_parameters if request.test else spec.parameters
        _reused_steps(project, spec, version, request.from_step, steps)
        given = _step_parameters(steps, notebooks, defaults, request.parameters)
        for name, _ in steps:
            contract = contract_of(read_notebook(notebooks[name]),
                                   strict=project.defaults.strict)
            resolve_parameters(contract, given[name], strict=project.defaults.strict)


def _resolve_version(project: Project, spec: JobSpec,
                     request: JobRunRequest) -> JobVersion | None:
    if request.stage is not None:
        spec.policy(request.stage)  # the stage exists
        pointer = project.registry.jobs.stage(spec.name, request.stage)
        if pointer is None:
            raise NotFound(f"stage {request.stage} of job {spec.name} points at no version yet",
                           hint=f"nbprod promote {spec.name} VERSION --to {request.stage}")
        return project.registry.jobs.version(spec.name, pointer.version)
    if request.version is not None:
        return project.registry.jobs.version(spec.name, request.version)
    return None


def _reused_steps(project: Project, spec: JobSpec, version: JobVersion | None,
                  from_step: str | None, steps: list[tuple[str, str]]
                  ) -> tuple[str, dict[str, str]] | None:
    """(job run id, step -> run id) of the succeeded steps before ``from_step``."""
    if from_step is None:
        return None
    names = [name for name, _ in steps]
    if from_step not in names:
        raise NotFound(f"job {spec.name} has no step '{from_step}'",
                       hint=f"steps: {', '.join(names)}")
    earlier = names[: names.index(from_step)]
    for previous in project.registry.jobs.runs(spec.name, limit=50):
        if previous.state not in ("failed", "lost"):
            continue
        if previous.version != (version.version if version else None):
            continue
        done = {s.step: s.run_id for s in previous.steps if s.state == "succeeded" and s.run_id}
        if all(step in done for step in earlier):
            return previous.job_run_id, {step: str(done[step]) for step in earlier}
    raise NotFound(f"no failed run of job {spec.name} "
                   f"({'version ' + str(version.version) if version else 'working tree'}) "
                   f"has succeeded steps up to {from_step}",
                   hint="run the whole job without --from")


def _run_steps(project: Project, job_run: JobRun, steps: list[tuple[str, str]],
               notebooks: Mapping[str, Path], defaults: Mapping[str, Mapping[str, Any]],
               request: JobRunRequest, reused: Mapping[str, str],
               observer: RunObserver | None, on_step: Any,
               used: Mapping[str, str]) -> list[StepResult]:
    results = [StepResult(name, None, "pending") for name, _ in steps]
    upstream: dict[str, str] = dict(used)
    given = _step_parameters(steps, notebooks, defaults, request.parameters)
    stopped = False
    for index, (name, recorded) in enumerate(steps):
        if stopped:
            results[index] = StepResult(name, None, "skipped")
            continue
        if name in reused:
            results[index] = StepResult(name, reused[name], "succeeded", reused=True)
        else:
            folder = (project.root / recorded).parent
            record = run_notebook(project, RunRequest(
                notebook=str(notebooks[name]), parameters=given[name], record_as=recorded,
                cwd=folder if folder.is_dir() else notebooks[name].parent,
                job_run_id=job_run.job_run_id, step=name, upstream=dict(upstream),
                cache=request.cache), observer)
            results[index] = StepResult(name, record.run_id, record.state,
                                        reused=record.cache_hit)
            stopped = record.state != "succeeded"
        upstream[name] = str(results[index].run_id)
        project.registry.jobs.update_steps(job_run.job_run_id, results)
        if on_step is not None:
            on_step(results[index])
    return results


def used_steps(project: Project, spec: JobSpec, *, strict: bool = True) -> dict[str, str]:
    """Step -> run id of the newest succeeded run of the version the used job's stage points
    at (``uses``): the model in production, retrained or not. Not ``strict`` (the working
    tree's job, as in development): else the newest succeeded runs of its notebooks."""
    if spec.uses is None:
        return {}
    job, stage = spec.uses
    found = used_run(project, job, stage)
    if found is not None:
        return {s.step: s.run_id for s in found.steps if s.run_id and s.state == "succeeded"}
    if not strict and project.settings is not None:
        from .upstream import latest_of_job

        return latest_of_job(project, project.settings, job)
    raise NotFound(f"job {spec.name} uses job {job} at {stage}, which has no succeeded "
                   f"run of the version there yet",
                   hint=f"promote a version of {job} to {stage} (and run it)")


def used_run(project: Project, job: str, stage: str) -> JobRun | None:
    """The newest succeeded job run of the version ``stage`` of ``job`` points at."""
    pointer = project.registry.jobs.stage(job, stage)
    if pointer is None:
        return None
    runs = project.registry.jobs.runs(job, version=pointer.version, state="succeeded", limit=1)
    return runs[0] if runs else None


def _step_parameters(steps: list[tuple[str, str]], notebooks: Mapping[str, Path],
                     defaults: Mapping[str, Mapping[str, Any]],
                     given: Mapping[str, Mapping[str, GivenValue]]
                     ) -> dict[str, dict[str, GivenValue]]:
    """Per step: the job's defaults, then ``-p step.name``, then ``-p name`` where declared."""
    names = [name for name, _ in steps]
    for step in given:
        if step != "*" and step not in names:
            raise InvalidInput(f"-p {step}.…: the job has no step '{step}'",
                               hint=f"steps: {', '.join(names)}")
    result: dict[str, dict[str, GivenValue]] = {}
    unclaimed = set(given.get("*", {}))
    for name, _ in steps:
        values = {k: GivenValue(v, source="job parameters") for k, v in
                  defaults.get(name, {}).items()}
        wildcard = given.get("*", {})
        if wildcard:
            declared = set(contract_of(read_notebook(notebooks[name]), strict=False).names)
            for key in declared & set(wildcard):
                values[key] = wildcard[key]
                unclaimed.discard(key)
        values.update(given.get(name, {}))
        result[name] = values
    if unclaimed:
        raise InvalidInput(f"parameter '{sorted(unclaimed)[0]}' (from -p) is declared by no "
                           "step of the job", hint="use -p STEP.NAME VALUE to target one step")
    return result


def reap_lost_job_runs(project: Project) -> None:
    """Job runs whose runner vanished become ``lost``."""
    from ..lineage import runner_alive

    project.registry.jobs.reap_lost(runner_alive)


def list_job_runs(project: Project, job: str | None = None, limit: int = 20) -> list[JobRun]:
    reap_lost_job_runs(project)
    return project.registry.jobs.runs(job, limit=limit)


def job_versions(project: Project, job: str) -> list[JobVersion]:
    return project.registry.jobs.versions(job)


def export_manifest(project: Project, spec: JobSpec, version: int | None) -> JobVersion:
    """The version to export: the one given, else the newest built."""
    if version is not None:
        return project.registry.jobs.version(spec.name, version)
    versions = project.registry.jobs.versions(spec.name)
    if not versions:
        raise NotFound(f"job {spec.name} has no version yet", hint=f"nbprod job build "
                       f"{spec.name}")
    return versions[0]

