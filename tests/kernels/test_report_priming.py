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

from .helpers import count_requests, run, succeeded, write_notebook

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


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_the_stored_notebook_has_the_kernels_language_info_not_asked_after_the_cells(
        project: Project, project_dir: Path, monkeypatch: Any, fast: bool) -> None:
    """papermill asked the kernel for its kernel_info again after the cells; the reply that
    readied the kernel already said it, so no kernel_info is asked once the cells start.
    (Readying may ask more than once: jupyter_client asks again when a reply or the iopub
    check is slow, as on a loaded machine.)"""
    asked = count_requests(monkeypatch)
    path = write_notebook(project_dir / "nb" / "lang.ipynb",
                          "import sys\nprint('.'.join(map(str, sys.version_info[:3])))")
    record = succeeded(run(project, path, fast=fast))
    stored = json.loads(project.store.read_bytes(f"runs/{record.run_id}/notebook.ipynb"))
    info = stored["metadata"]["language_info"]
    printed = "".join("".join(o.get("text", [])) for c in stored["cells"]
                      if c["cell_type"] == "code" for o in c["outputs"]).strip()
    assert info["name"] == "python" and info["pygments_lexer"] == "ipython3"
    assert info["version"] == printed  # the kernel's own, not the runner's
    # (a spare that told its kernel_info ahead is not asked at all: tests/kernels/
    # test_greeting.py)
    assert "execute" in asked
    assert "kernel_info" not in asked[asked.index("execute"):]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_the_renderer_is_told_of_each_finished_cell_with_its_outputs(
        project: Project, project_dir: Path, monkeypatch: Any, fast: bool) -> None:
    told: list[tuple[int, int]] = []
    primed: list[Any] = []
    prime, cell_done = report.ReportRenderer.prime, report.ReportRenderer.cell_done

    def spy_prime(self: report.ReportRenderer, node: Any) -> None:
        primed.append(node)
        prime(self, node)

    def spy_done(self: report.ReportRenderer, index: int) -> None:
        told.append((index, len(primed[0].cells[index].outputs)))
        cell_done(self, index)

    monkeypatch.setattr(report.ReportRenderer, "prime", spy_prime)
    monkeypatch.setattr(report.ReportRenderer, "cell_done", spy_done)
    path = write_notebook(project_dir / "nb" / "told.ipynb",
                          "from IPython.display import HTML\nHTML('<b>one</b>')",
                          "print('two')\nprint('lines')")
    record = succeeded(run(project, path, fast=fast))
    stored = json.loads(project.store.read_bytes(f"runs/{record.run_id}/notebook.ipynb"))
    code = [(i, len(c["outputs"])) for i, c in enumerate(stored["cells"])
            if c["cell_type"] == "code"]
    assert told == code  # each code cell once, in order, its outputs all there
