"""Fixtures for the unit tests: tiny notebooks written to a temporary folder."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from nbprod.notebook import Notebook, read_notebook

from .helpers import new_notebook

# Keep hypothesis' caches out of the repository (it writes .hypothesis/ in the working dir).
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "nbprod-unit-hypothesis")


@pytest.fixture
def write_notebook(tmp_path: Path) -> Callable[..., Path]:
    """``write_notebook(code("x = 1", "parameters"), name="a.ipynb")`` -> the file's path."""
    def write(*cells: Any, name: str = "nb.ipynb", kernel: str | None = "python3") -> Path:
        path = tmp_path / name
        path.write_text(nbformat.writes(new_notebook(*cells, kernel=kernel)), encoding="utf-8")
        return path
    return write


@pytest.fixture
def notebook_with(write_notebook: Callable[..., Path]) -> Callable[..., Notebook]:
    """``notebook_with(cells...)`` -> the Notebook read back from disk."""
    def build(*cells: Any, kernel: str | None = "python3") -> Notebook:
        return read_notebook(write_notebook(*cells, kernel=kernel))
    return build
