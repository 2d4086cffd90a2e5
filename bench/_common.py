"""What the benchmarks share: the example project in a scratch folder, timing a command."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def normal_bytecode() -> None:
    """Time nbprod as it is normally installed: with PYTHONDONTWRITEBYTECODE set (some shells
    and containers set it), an editable install's modules are compiled again by every process
    (a command's launcher, each kernel), which no installed wheel pays. Drop it, and say so."""
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        print("note: PYTHONDONTWRITEBYTECODE unset for the timed commands", file=sys.stderr)


normal_bytecode()


@contextlib.contextmanager
def bench_runtime(prefix: str = "nbprod-bench-") -> Iterator[Path]:
    """A scratch folder, and a runtime folder of the benchmark's own for the kernel templates
    and warm nbprod it starts (``XDG_RUNTIME_DIR``, inherited by every command it runs); on
    the way out, every template and warm process in it is stopped and both are removed."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    runtime = work / "runtime"
    runtime.mkdir(mode=0o700)
    before = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    try:
        yield work
    finally:
        subprocess.run([str(BIN / "nbprod"), "kernels", "stop"], capture_output=True,
                       check=False, cwd=work)
        if before is None:
            os.environ.pop("XDG_RUNTIME_DIR", None)
        else:
            os.environ["XDG_RUNTIME_DIR"] = before
        shutil.rmtree(work, ignore_errors=True)


def load() -> str:
    """The load averages (1, 5, 15 minutes), to print beside the numbers."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


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
