"""Use cases for reading the registry page by page: runs lists, value charts, failing cells,
stored files, notebooks and their parameter contracts.

These serve interfaces that show a lot of history at once (the dashboard, a Lab panel): a runs
page is one index range scan after a cursor, whatever the registry's size (registry/listing.py).
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidInput, NbprodError, NotFound
from ..records import FINAL_STATES, RunRecord
from ..registry.listing import SeriesPoint as SeriesPoint  # re-exported: what a series holds
from ..store.base import is_valid_name
from .cache import located
from .project import Project

STATES = ("running", *sorted(FINAL_STATES))
MAX_PAGE = 200
_CURSOR = re.compile(r"[0-9a-z-]{1,40}")


@dataclass(frozen=True)
class RunQuery:
    """Which runs to list: exact filters, a cursor (``before`` / ``after`` a run id), a size."""

    notebook: str | None = None
    state: str | None = None
    user: str | None = None
    job_run_id: str | None = None
    sweep_id: str | None = None
    before: str | None = None
    after: str | None = None
    limit: int = 50

    def filters(self) -> dict[str, str | None]:
        return {"notebook": self.notebook, "state": self.state, "user": self.user,
                "job_run_id": self.job_run_id, "sweep_id": self.sweep_id}


@dataclass(frozen=True)
class RunPage:
    runs: list[RunRecord]
    older: str | None  # cursor for the next (older) page, if there is one
    newer: str | None  # cursor for the previous (newer) page, if there is one
    query: RunQuery = field(default_factory=RunQuery)

    def to_json(self) -> dict[str, Any]:
        return {"runs": [run_summary(r) for r in self.runs], "older": self.older,
                "newer": self.newer, "limit": self.query.limit}


def runs_page(project: Project, query: RunQuery) -> RunPage:
    """One page of runs, newest first; runs whose runner vanished are reported ``lost``."""
    _check_query(query)
    project.reap_lost()
    filters = {**query.filters(), "notebook": _recorded_name(project, query.notebook)}
    records, page = project.registry.page_runs(filters, before=query.before, after=query.after,
                                               limit=query.limit)
    records = [located(project, r) for r in records]
    older = page.run_ids[-1] if page.has_older and page.run_ids else None
    newer = page.run_ids[0] if page.has_newer and page.run_ids else None
    return RunPage(records, older=older, newer=newer, query=query)


def _recorded_name(project: Project, notebook: str | None) -> str | None:
    """The notebook path runs record (``notebooks/train.ipynb``) for a name or a path."""
    if not notebook:
        return None
    if notebook in project.notebooks:
        notebook = project.notebooks[notebook].path or \
            f"{project.notebook_dir}/{notebook}.ipynb"
    elif not notebook.endswith(".ipynb"):
        notebook = f"{project.notebook_dir}/{notebook}.ipynb"
    return posixpath.normpath(notebook)


def _check_query(query: RunQuery) -> None:
    if not 1 <= query.limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}, got {query.limit}")
    if query.state and query.state not in STATES:
        raise InvalidInput(f"no run state '{query.state}'", hint=f"states: {', '.join(STATES)}")
    for name, cursor in (("before", query.before), ("after", query.after)):
        if cursor and not _CURSOR.fullmatch(cursor):
            raise InvalidInput(f"{name}={cursor[:50]!r} is not a run id cursor",
                               hint="use the 'older' / 'newer' value of a previous page")


def run_summary(record: RunRecord) -> dict[str, Any]:
    """What a runs list shows of a run (the full record is one request away)."""
    failure = record.failure
    return {"run_id": record.run_id, "notebook": record.notebook, "state": record.state,
            "failure": {"kind": failure.kind, "message": failure.message} if failure else None,
            "parameters": dict(record.parameters), "values": dict(record.values),
            "started_at": record.started_at.isoformat(),
            "ended_at": record.ended_at.isoformat() if record.ended_at else None,
            "duration": record.duration, "user": record.lineage.user,
            "job_run_id": record.job_run_id, "step": record.step, "sweep_id": record.sweep_id}


def run_choices(project: Project) -> dict[str, list[str]]:
    """What a runs filter can offer: notebooks and users that have runs, and the states."""
    return {"notebooks": project.registry.distinct("notebook"),
            "users": project.registry.distinct("user"), "states": list(STATES)}


def value_series(project: Project, notebook: str, name: str,
                 limit: int = 200) -> list[SeriesPoint]:
    """A numeric value across the newest ``limit`` runs of ``notebook``, oldest first."""
    if not 1 <= limit <= 1000:
        raise InvalidInput(f"limit must be between 1 and 1000, got {limit}")
    return project.registry.value_series(notebook, name, limit)


def value_names(project: Project, notebook: str) -> list[str]:
    """Numeric values recorded by recent runs of ``notebook`` (what a chart can show)."""
    return project.registry.value_names(notebook)


@dataclass(frozen=True)
class FailingCell:
    """The cell a failed run stopped at, as the output notebook holds it."""

    index: int
    source: str
    ename: str | None
    evalue: str | None
    traceback: str

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "source": self.source, "ename": self.ename,
                "evalue": self.evalue, "traceback": self.traceback}


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_FAILED_TAG = "nbprod-failed"


def failing_cell(project: Project, record: RunRecord) -> FailingCell | None:
    """The failing cell of a failed run (source, exception, traceback without colours)."""
    if record.state != "failed" or record.artifact("notebook.ipynb") is None:
        return None
    artifact = record.artifact("notebook.ipynb")
    assert artifact is not None
    try:
        data = json.loads(project.store.read_bytes(f"runs/{record.run_id}/notebook.ipynb",
                                                   artifact.sha256))
    except (NbprodError, ValueError):
        return None
    for index, cell in enumerate(data.get("cells", [])):
        if _FAILED_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        error = errors[-1] if errors else {}
        source = cell.get("source", "")
        return FailingCell(
            index=index, source="".join(source) if isinstance(source, list) else str(source),
            ename=error.get("ename"), evalue=error.get("evalue"),
            traceback=_ANSI.sub("", "\n".join(error.get("traceback", []))))
    return None


@dataclass(frozen=True)
class StoredFile:
    name: str
    data: bytes
    sha256: str


def read_artifact(project: Project, record: RunRecord, name: str) -> StoredFile:
    """One stored file of a run, its bytes checked against the recorded SHA-256."""
    artifact = record.artifact(name) if is_valid_name(name) else None
    if artifact is None:
        raise NotFound(f"run {record.run_id} has no file '{name[:100]}'",
                       hint="the run's page lists its files")
    data = project.store.read_bytes(f"runs/{record.run_id}/{name}", artifact.sha256)
    return StoredFile(name=name, data=data, sha256=artifact.sha256)


@dataclass(frozen=True)
class NotebookInfo:
    """A notebook of the project: its name, path and parameter contract (or why not)."""

    name: str
    path: str
    contract: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "contract": self.contract,
                "problem": self.problem}


def list_notebooks(project: Project) -> list[NotebookInfo]:
    """Declared notebooks and the ``.ipynb`` files of the notebook folder, by name."""
    found: dict[str, str] = {}
    for name, entry in project.notebooks.items():
        found[name] = entry.path or f"{project.notebook_dir}/{name}.ipynb"
    folder = project.root / project.notebook_dir
    if folder.is_dir():
        for path in sorted(folder.glob("*.ipynb")):
            relative = project.relative(path)
            if relative not in found.values():
                found.setdefault(path.stem, relative)
    return [NotebookInfo(name=name, path=path) for name, path in sorted(found.items())]


def project_notebook(project: Project, ref: str) -> Path:
    """The notebook ``ref`` names (a declared name or a project-relative path), only if it is
    inside the project: a remote user never reaches files elsewhere on the machine."""
    if Path(ref).is_absolute() or "\\" in ref or ".." in Path(ref).parts:
        raise NotFound(f"no notebook '{ref[:100]}' in this project",
                       hint="give a notebook's name or its path inside the project")
    path, _entry = project.resolve_notebook(ref)
    if not _inside(project.root, path):
        raise NotFound(f"no notebook '{ref[:100]}' in this project")
    return path


def notebook_info(project: Project, ref: str) -> NotebookInfo:
    """One notebook and its parameter contract; a notebook that cannot be read says why."""
    from ..notebook import contract_of, read_notebook  # nbformat: lazily

    path = project_notebook(project, ref)
    name = next((n for n, e in project.notebooks.items()
                 if e.path and (project.root / e.path).resolve() == path), path.stem)
    try:
        contract = contract_of(read_notebook(path), strict=False).to_json()
    except InvalidInput as exc:
        return NotebookInfo(name=name, path=project.relative(path), problem=exc.one_line())
    return NotebookInfo(name=name, path=project.relative(path), contract=contract)


def _inside(root: Path, path: Path) -> bool:
    import os

    root = root.resolve()
    return os.path.commonpath([root, path.resolve()]) == str(root)
