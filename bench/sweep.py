"""Benchmark: a 20-point sweep and single runs — nbprod against papermill and plain scripts.

    python bench/sweep.py [--repeat 1] [--single 5]

In one session, on a copy of the example project, it times the same 20-point sweep of
notebooks/train.ipynb (n_estimators x max_depth x test_size) run by:

- papermill, one point after the other (the papermill CLI per point);
- papermill, two points at a time (two CLI processes in parallel);
- `nbprod sweep` with the local executor (2 workers);
- `nbprod sweep --executor dask` on a 2-worker LocalCluster;
- the same code as plain Python scripts, two at a time;

then single-run overhead (`nbprod run` vs `papermill` on a trivial notebook, and on
train.ipynb with its kernel template warm) and the whole-process time of a `--cache` hit.
Every time is a whole process tree's wall time; it prints each and the ratios.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

# bench/ is on sys.path when a benchmark runs as a script
from _common import BIN, example_project, prepare_data, timed

GRID = {"n_estimators": ["10", "20"], "max_depth": ["2", "3", "4", "5", "none"],
        "test_size": ["0.2", "0.3"]}


def points() -> list[dict[str, str]]:
    names = list(GRID)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*GRID.values())]


def parallel(commands: list[list[str]], cwd: Path, workers: int) -> float:
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda cmd: timed(cmd, cwd), commands))
    return time.perf_counter() - start


def papermill_cmd(point: dict[str, str], out: Path) -> list[str]:
    args = [str(BIN / "papermill"), "notebooks/train.ipynb", str(out), "--cwd", "notebooks",
            "--no-progress-bar"]
    for name, value in point.items():
        args += ["-p", name, "None" if value == "none" else value]
    return args


def scripts(project: Path) -> list[Path]:
    """The notebook's code as one plain script per point (parameters written in)."""
    from nbprod.notebook import read_notebook

    notebook = read_notebook(project / "notebooks" / "train.ipynb")
    code = [c.source for c in notebook.node.cells if c.cell_type == "code"]
    folder = project / "scripts"
    folder.mkdir()
    paths = []
    for index, point in enumerate(points()):
        injected = "\n".join(f"{k} = {None if v == 'none' else json.loads(v)!r}"
                             for k, v in point.items())
        path = folder / f"point_{index}.py"
        path.write_text("\n\n".join([code[0], injected, *code[1:]]) + "\n")
        paths.append(path)
    return paths


def median_of(count: int, cmd: list[str], cwd: Path) -> float:
    return statistics.median(timed(cmd, cwd) for _ in range(count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="sweeps per contender")
    parser.add_argument("--single", type=int, default=5, help="runs per single-run case")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nbprod-bench-sweep-"))
    try:
        project = example_project(work)
        nbprod = str(BIN / "nbprod")
        out = work / "out"
        out.mkdir()
        prepare_data(project)
        grid = [arg for name, values in GRID.items() for arg in ("--grid",
                                                                  f"{name}={','.join(values)}")]
        contenders = {
            "papermill, sequential": lambda: sum(
                timed(papermill_cmd(p, out / f"pm{i}.ipynb"), project)
                for i, p in enumerate(points())),
            "papermill, 2 processes": lambda: parallel(
                [papermill_cmd(p, out / f"pp{i}.ipynb") for i, p in
                 enumerate(points())], project, 2),
            "plain scripts, 2 at a time": lambda: parallel(
                [[sys.executable, str(path)] for path in script_paths], project / "notebooks",
                2),
            "nbprod sweep (local)": lambda: timed(
                [nbprod, "sweep", "train", *grid, "--workers", "2", "--json"], project),
            "nbprod sweep (dask)": lambda: timed(
                [nbprod, "sweep", "train", *grid, "--executor", "dask", "--workers", "2",
                 "--json"], project),
        }
        script_paths = scripts(project)
        # Warm-up: one run of each kind of process (file cache, kernel template, warm nbprod).
        timed(papermill_cmd(points()[0], out / "warm.ipynb"), project)
        timed([sys.executable, str(script_paths[0])], project / "notebooks")
        timed([nbprod, "sweep", "train", "--grid", "n_estimators=5", "--json"], project)
        results = {name: statistics.median(fn() for _ in range(args.repeat))
                   for name, fn in contenders.items()}
        print(f"20-point sweep of train.ipynb, {args.repeat} time(s) each, whole wall time")
        print(f"{'':<28} {'seconds':>8} {'vs papermill seq':>17} {'vs scripts x2':>14}")
        for name, seconds in results.items():
            print(f"{name:<28} {seconds:>8.2f} "
                  f"{seconds / results['papermill, sequential']:>17.3f} "
                  f"{seconds / results['plain scripts, 2 at a time']:>14.3f}")

        single = {
            "trivial": ("notebooks/trivial.ipynb", ["-p", "n", "2"]),
            "train (template warm)": ("notebooks/train.ipynb", ["-p", "n_estimators", "20"]),
        }
        print(f"\nsingle runs, median of {args.single} whole processes")
        print(f"{'notebook':<24} {'papermill (s)':>14} {'nbprod (s)':>11} {'ratio':>7}")
        for name, (notebook, params) in single.items():
            pm = [str(BIN / "papermill"), notebook, str(out / "single.ipynb"), "--cwd",
                  "notebooks", "--no-progress-bar", *params]
            ours = [nbprod, "run", notebook, *params]
            timed(pm, project)
            timed(ours, project)
            pm_s, ours_s = median_of(args.single, pm, project), median_of(args.single, ours,
                                                                           project)
            print(f"{name:<24} {pm_s:>14.2f} {ours_s:>11.2f} {ours_s / pm_s:>7.2f}")
        cached = [nbprod, "run", "notebooks/train.ipynb", "-p", "n_estimators", "20", "--cache"]
        print(f"\ncache hit (`nbprod run --cache`, unchanged notebook and parameters): "
              f"{median_of(args.single, cached, project):.3f} s whole process (median)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
