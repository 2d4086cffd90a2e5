"""Benchmark: `nbprod run` against the `papermill` CLI on the same notebooks, same session.

    python bench/run_overhead.py [--repeat 7]

Times whole processes (what a user or a scheduler waits for): a trivial notebook and the
example pipeline's train.ipynb, each run by both tools, interleaved so machine noise hits both
alike. Prints medians and the ratio nbprod / papermill (below 1.0: nbprod is faster).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def trivial_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                              "language": "python"}
    params = nbformat.v4.new_code_cell("n: int = 1  # a number")
    params.metadata.tags = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print(n + 1)")]
    nbformat.write(nb, path)


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per tool and notebook")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="nbprod-bench-"))
    try:
        project = work / "project"
        shutil.copytree(ROOT / "notebooks", project / "notebooks",
                        ignore=shutil.ignore_patterns("nbprod-local", ".ipynb_checkpoints"))
        shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
        trivial_notebook(project / "notebooks" / "trivial.ipynb")
        nbprod, papermill = str(BIN / "nbprod"), str(BIN / "papermill")
        timed([nbprod, "run", "prepare"], project)  # data for train.ipynb

        cases = {
            "trivial": ("notebooks/trivial.ipynb", ["-p", "n", "2"]),
            "train": ("notebooks/train.ipynb", ["-p", "n_estimators", "50"]),
        }
        print(f"{'notebook':<10} {'papermill (s)':>14} {'nbprod (s)':>11} {'ratio':>7}")
        for name, (notebook, params) in cases.items():
            commands = {
                "papermill": [papermill, notebook, str(work / f"{name}.out.ipynb"),
                              "--cwd", "notebooks", "--no-progress-bar", *params],
                "nbprod": [nbprod, "run", notebook, *params],
            }
            for cmd in commands.values():  # warm the file cache once
                timed(cmd, project)
            samples: dict[str, list[float]] = {tool: [] for tool in commands}
            for _ in range(args.repeat):
                for tool, cmd in commands.items():
                    samples[tool].append(timed(cmd, project))
            pm, nb = (statistics.median(samples[t]) for t in ("papermill", "nbprod"))
            print(f"{name:<10} {pm:>14.2f} {nb:>11.2f} {nb / pm:>7.2f}")
        print(f"(medians of {args.repeat} whole-process runs each; ratio = nbprod / papermill)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
