"""Which earlier runs a notebook's ``nbprod.step_path`` reads when run on its own.

In a job run the job runner says (the same job run's earlier steps). Under ``nbprod run`` of a
notebook that is a step of a job, the earlier steps of the first such job resolve to the latest
succeeded run of each step's notebook, so ``nbprod run prepare`` then ``nbprod run train``
works as the job would, and the run records which runs it read.
"""

from __future__ import annotations

from ..errors import NbprodError
from ..jobs.spec import job_spec
from .project import Project


def default_upstream(project: Project, notebook: str) -> dict[str, str]:
    """step name -> run id, for the steps before ``notebook`` in a job that holds it."""
    settings = project.settings
    if settings is None:
        return {}
    jobs = settings.raw.get("jobs") or {}
    for name in sorted(jobs) if isinstance(jobs, dict) else []:
        try:
            spec = job_spec(settings, name)
        except NbprodError:
            continue  # a broken job declaration is reported where jobs are used
        paths = [s.notebook for s in spec.steps]
        if notebook not in paths:
            continue
        upstream: dict[str, str] = {}
        for step in spec.steps[: paths.index(notebook)]:
            latest = project.registry.latest_run_id(step.notebook)
            if latest is not None:
                upstream[step.name] = latest
        return upstream
    return {}
