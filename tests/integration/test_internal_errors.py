"""A bug in nbprod is ``internal`` (exit 70, with its traceback), not ``infra`` ("retrying
may help", exit 4) — issue 9 §4."""

from __future__ import annotations

import pytest

from nbprod import api
from nbprod.api import Project, RunRequest

pytestmark = pytest.mark.slow


class _BuggyObserver(api.RunObserver):
    """Calling code with a bug: it fails while a cell runs."""

    def cell_started(self, index: int | None, total: int, label: str) -> None:
        if index == 2:
            raise TypeError("unsupported operand in the observer")


def test_an_unexpected_exception_is_internal_with_its_traceback(project: Project) -> None:
    record = api.run_notebook(project, RunRequest(notebook="ok.ipynb"), _BuggyObserver())
    assert record.state == "failed"
    assert record.failure is not None
    assert record.failure.kind == "internal"
    assert record.failure.message.startswith("internal error (a bug in nbprod): TypeError: "
                                             "unsupported operand in the observer")
    assert "Traceback (most recent call last)" in (record.failure.evalue or "")
    assert "cell_started" in (record.failure.evalue or "")
    assert record.artifact("notebook.ipynb") is not None  # the partial notebook is kept
