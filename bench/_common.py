"""What the benchmarks share: the example project in a scratch folder, timing a command."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def example_project(work: Path) -> Path:
    """A copy of the example project (notebooks + settings) with notebooks/trivial.ipynb."""
    project = work / "project"
    shutil.copytree(ROOT / "notebooks", project / "notebooks",
                    ignore=shutil.ignore_patterns("nbprod-local", ".ipynb_checkpoints"))
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    trivial_notebook(project / "notebooks" / "trivial.ipynb")
    return project


def prepare_data(project: Path) -> None:
    """Data for train.ipynb: nbprod's prepare run (for nbprod), and prepare.ipynb run by
    papermill (for papermill and plain scripts, which read it through nbprod.step_path's
    interactive fallback, notebooks/nbprod-local/)."""
    timed([str(BIN / "nbprod"), "run", "prepare"], project)
    timed([str(BIN / "papermill"), "notebooks/prepare.ipynb",
           str(project / "prepare.out.ipynb"), "--cwd",
           "notebooks", "--no-progress-bar"], project)


def trivial_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                              "language": "python"}
    params = nbformat.v4.new_code_cell("n: int = 1  # a number")
    params.metadata.tags = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print(n + 1)")]
    nbformat.write(nb, path)


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall time of the whole process; a failure stops the benchmark with its stderr."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return elapsed
