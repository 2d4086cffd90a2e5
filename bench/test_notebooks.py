"""Benchmark: `nbprod test` against `pytest --nbval` and `pytest --nbmake -n 2`, same session.

    python bench/test_notebooks.py [--notebooks 8] [--repeat 3]

Generates small pandas/numpy notebooks with saved outputs in a temporary project, then times
whole processes, interleaved: `pytest --nbval` (regression, one after the other),
`pytest --nbmake -n 2` (execution only, 2 xdist workers) and `nbprod test` (regression
through nbval on the local cores, results recorded in the registry). Prints medians and the
ratios (below 1.0: nbprod is faster).
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
from nbclient import NotebookClient

BIN = Path(sys.executable).parent


def make_notebooks(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        params = nbformat.v4.new_code_cell(f"rows: int = {200 + 50 * i}  # rows of data\n"
                                           f"seed: int = {i}  # random seed")
        params.metadata.tags = ["parameters"]
        nb = nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_markdown_cell(f"# Report {i}"),
            params,
            nbformat.v4.new_code_cell("import numpy as np\nimport pandas as pd\n"
                                      "rng = np.random.default_rng(seed)"),
            nbformat.v4.new_code_cell("df = pd.DataFrame({'a': rng.normal(size=rows), "
                                      "'b': rng.integers(0, 5, size=rows)})\ndf.head()"),
            nbformat.v4.new_code_cell("summary = df.groupby('b')['a'].agg(['mean', 'count'])\n"
                                      "summary.round(4)"),
            nbformat.v4.new_code_cell("print('total', round(float(df['a'].sum()), 6))"),
        ])
        nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                                  "language": "python"}
        NotebookClient(nb, timeout=120).execute()
        nbformat.write(nb, folder / f"report_{i}.ipynb")


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n"
                         f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nbprod-bench-test-"))
    try:
        (work / "nbprod.toml").write_text('notebook_dir = "notebooks"\n')
        (work / "pytest.ini").write_text("[pytest]\n")
        make_notebooks(work / "notebooks", args.notebooks)
        python = str(BIN / "python")
        commands = {
            "pytest --nbval": [python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "--nbval", "notebooks"],
            "pytest --nbmake -n 2": [python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                     "--nbmake", "-n", "2", "notebooks"],
            "nbprod test": [str(BIN / "nbprod"), "test", "notebooks"],
        }
        for cmd in commands.values():  # warm the file cache and check every tool passes
            timed(cmd, work)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, cmd in commands.items():
                samples[name].append(timed(cmd, work))
        medians = {name: statistics.median(values) for name, values in samples.items()}
        ours = medians["nbprod test"]
        print(f"{args.notebooks} notebooks, medians of {args.repeat} whole-process runs")
        print(f"{'command':<22} {'seconds':>8} {'nbprod / it':>12}")
        for name, seconds in medians.items():
            print(f"{name:<22} {seconds:>8.2f} {ours / seconds:>12.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
