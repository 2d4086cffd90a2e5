"""The per-cell metadata nbprod's execution manager writes is papermill's."""

from __future__ import annotations

import copy

import nbformat
from papermill.engines import NotebookExecutionManager

from nbprod.execute.engine import _Manager


def test_cell_metadata_is_what_papermill_writes() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("1"), nbformat.v4.new_code_cell("2")]
    nb.metadata.papermill = {}  # what papermill (and nbprod's injection) starts from
    ours = _Manager(copy.deepcopy(nb), None)
    theirs = NotebookExecutionManager(copy.deepcopy(nb), progress_bar=False)
    for manager in (ours, theirs):
        manager.notebook_start()
        manager.cell_start(manager.nb.cells[0], 0)
        manager.cell_complete(manager.nb.cells[0], cell_index=0)
        manager.cell_start(manager.nb.cells[1], 1)
        manager.cell_exception(manager.nb.cells[1], cell_index=1, exception=ValueError())
        manager.cell_complete(manager.nb.cells[1], cell_index=1)
    for mine, reference in zip(ours.nb.cells, theirs.nb.cells, strict=True):
        a, b = mine.metadata.papermill, reference.metadata.papermill
        assert set(a) == set(b) == {"start_time", "end_time", "duration", "status",
                                    "exception"}
        assert (a["status"], a["exception"]) == (b["status"], b["exception"])
        assert isinstance(a["duration"], float) and 0 <= a["duration"] < 5
        assert a["end_time"].endswith("+00:00") and len(a["end_time"]) == len(b["end_time"])
