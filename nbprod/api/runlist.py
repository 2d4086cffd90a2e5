"""Use case: list runs, newest first, as they are read (``nbprod runs``, ``--all --json``).

Both functions yield a page at a time from one registry snapshot, each run complete (its
artifacts' locations filled in as it is built), so a listing of 100,000 runs prints its first
row at once and holds one page in memory. :func:`runs_json` gives each run as the JSON of
``RunRecord.to_json()`` without building the records: what ``--json`` prints.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import InvalidInput
from ..records import RunRecord
from .project import Project


def iter_runs(project: Project, *, notebook: str | None = None, state: str | None = None,
              last: int | None = None) -> Iterator[RunRecord]:
    """Runs, newest first; runs whose runner vanished are reported ``lost``.

    ``notebook`` is a path or a name (resolved as ``nbprod run`` resolves it, else taken as
    given: a notebook that no longer exists); ``last`` keeps the newest that many.
    """
    yield from project.registry.iter_runs(notebook=_notebook(project, notebook), state=state,
                                          limit=last, locate=project.store.location)


def runs_json(project: Project, *, notebook: str | None = None, state: str | None = None,
              last: int | None = None) -> Iterator[bytes]:
    """:func:`iter_runs`, each run as the JSON (UTF-8) of its ``to_json()``."""
    yield from project.registry.iter_run_json(
        notebook=_notebook(project, notebook), state=state, limit=last,
        locate=project.store.location)


def _notebook(project: Project, notebook: str | None) -> str | None:
    """Reap lost runs first; then the notebook filter as the registry holds notebooks."""
    project.reap_lost()
    if notebook:
        try:
            path, _ = project.resolve_notebook(notebook)
            return project.relative(path)
        except InvalidInput:
            pass  # filter by the text given (a notebook that no longer exists)
    return notebook
