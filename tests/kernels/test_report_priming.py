"""The report is primed (its code cells highlighted) while the kernel runs the cells: the
runner hands the primer the notebook being executed, with the kernel's own language_info,
before the first cell, in a forked and in a plain kernel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nbprod.api import Project
from nbprod.execute import report

from .helpers import run, succeeded, write_notebook

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_the_primer_gets_the_notebook_before_its_cells_with_the_kernels_lexer(
        project: Project, project_dir: Path, monkeypatch: Any, fast: bool) -> None:
    seen: list[tuple[Any, int, int]] = []
    prime = report.ReportRenderer.prime

    def spy(self: report.ReportRenderer, node: Any) -> None:
        code = [c for c in node.cells if c.cell_type == "code"]
        seen.append((node.metadata.get("language_info", {}).get("pygments_lexer"),
                     len(code), sum(len(c.outputs) for c in code)))
        prime(self, node)

    monkeypatch.setattr(report.ReportRenderer, "prime", spy)
    path = write_notebook(project_dir / "nb" / "primed.ipynb",
                          "x = 6 * 7\nprint(x)", "print('done')")
    record = succeeded(run(project, path, fast=fast))
    stored = json.loads(project.store.read_bytes(f"runs/{record.run_id}/notebook.ipynb"))
    code = sum(c["cell_type"] == "code" for c in stored["cells"])
    assert seen == [("ipython3", code, 0)]  # once, every code cell, no output yet
    page = project.store.read_bytes(f"runs/{record.run_id}/report.html").decode()
    assert "done" in page and "hl-ipython3" in page
