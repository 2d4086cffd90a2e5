"""lint/ruff.py: ruff runs in the background with its report in a temporary file; a ruff
that fails says so in one line, and one nobody waited for is stopped."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from nbprod.errors import InfraError
from nbprod.lint.ruff import RuffRun


def _notebook(path: Path, source: str) -> Path:
    path.write_text(nbformat.writes(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import os"), nbformat.v4.new_code_cell(source)])))
    return path


def test_findings_name_the_shown_path_and_the_cell(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "a.ipynb", "print(undefined_name)")

    with RuffRun([path], ["F821", "F401"], {str(path): "notebooks/a.ipynb"}) as ruff:
        found = ruff.result()

    assert {(f.path, f.code, f.cell, f.line) for f in found["notebooks/a.ipynb"]} == {
        ("notebooks/a.ipynb", "F401", 0, 1), ("notebooks/a.ipynb", "F821", 1, 1)}


def test_a_ruff_that_fails_raises_one_line(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "a.ipynb", "x = 1")

    with RuffRun([path], ["NOT-A-CODE"], {str(path): "a.ipynb"}) as ruff, \
            pytest.raises(InfraError, match=r"ruff failed \(exit 2\)"):
        ruff.result()


def test_a_ruff_nobody_waited_for_is_stopped(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "a.ipynb", "x = 1")

    with RuffRun([path], ["F821"], {str(path): "a.ipynb"}) as ruff:
        process = ruff._proc
        assert process is not None

    assert process.returncode is not None
    assert ruff._files == []
