"""Which earlier runs a notebook's ``nbprod.step_path`` reads when run on its own.

In a job run the job runner says (the same job run's earlier steps). Under ``nbprod run`` of a
notebook that is a step of a job, the earlier steps of the first such job resolve to the latest
succeeded run of each step's notebook, so ``nbprod run prepare`` then ``nbprod run train``
works as the job would, and the run records which runs it read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..config import Settings
from ..errors import NbprodError, NotFound
from ..jobs.spec import declared_jobs, job_spec
from .project import Project

FILES = "files/"


def default_upstream(project: Project, notebook: str) -> dict[str, str]:
    """step name -> run id, for the steps before ``notebook`` in a job that holds it."""
    settings = project.settings
    if settings is None:
        return {}
    for spec in declared_jobs(settings):
        paths = [s.notebook for s in spec.steps]
        if notebook not in paths:
            continue
        upstream = _used(project, settings, spec.uses) if spec.uses else {}
        for step in spec.steps[: paths.index(notebook)]:
            latest = project.registry.latest_run_id(step.notebook)
            if latest is not None:
                upstream[step.name] = latest
        return upstream
    return {}


def _used(project: Project, settings: Settings, uses: tuple[str, str]) -> dict[str, str]:
    """A job that ``uses`` another, run on its own: the newest succeeded run of the version
    that job's stage points at, else the newest succeeded run of each of its steps'
    notebooks (as in development, before anything was promoted)."""
    from .jobs import used_run

    job, stage = uses
    staged = used_run(project, job, stage)
    if staged is not None:
        return {s.step: s.run_id for s in staged.steps if s.run_id}
    return latest_of_job(project, settings, job)


def latest_of_job(project: Project, settings: Settings, job: str) -> dict[str, str]:
    """Step -> the newest succeeded run of each of ``job``'s notebooks."""
    try:
        used = job_spec(settings, job)
    except NbprodError:
        return {}
    found = {s.name: project.registry.latest_run_id(s.notebook) for s in used.steps}
    return {name: run_id for name, run_id in found.items() if run_id}


def fetch_upstream(project: Project, upstream: Mapping[str, str], target: Path) -> dict[str, str]:
    """step name -> a local folder of verified, read-only copies of that run's files.

    Each file is checked against the SHA-256 its run recorded; one that differs fails with an
    IntegrityError naming it (the downstream step then fails ``infra``, exit 4).
    """
    if not upstream:
        return {}
    records = {r.run_id: r for r in project.registry.list_runs(run_ids=list(upstream.values()))}
    folders = {}
    for step, run_id in upstream.items():
        record = records.get(run_id)
        if record is None:
            raise NotFound(f"upstream run {run_id} of step {step} is not in the registry")
        expected = {a.name[len(FILES):]: a.sha256 for a in record.artifacts
                    if a.name.startswith(FILES)}
        folders[step] = str(project.store.fetch_folder(f"runs/{run_id}/files", target / step,
                                                       expected))
    return folders
