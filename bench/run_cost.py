"""Benchmark: what a run and a sweep cost — phases, sweep times and peak memory, in one run.

    python bench/run_cost.py [--runs 15] [--repeat 3] [--papermill-repeat 1]

On a copy of the example project, in one session:

1. the phase breakdown of one warm run of notebooks/train.ipynb (``bench/phases.py``):
   median per phase, runner wall time, the cells' own time and the overhead (wall - cells);
2. the same 20-point sweep of train.ipynb (n_estimators x max_depth x test_size) run by
   papermill in 2 processes (the CLI per point, two at a time), by the notebook's code as
   plain Python scripts 2 at a time, by ``nbprod sweep --workers 2`` cold (no kernel template
   or warm nbprod running: ``nbprod kernels stop`` first) and warm (right after another sweep);
   whole wall time, median of ``--repeat`` sweeps (papermill: ``--papermill-repeat``, it takes
   ~100 s a sweep), and the ratios the issue asks for;
3. the peak memory of each sweep's whole process tree (``bench/_memory.py``): every process
   with the benchmark's runtime folder in its environment, templates and warm nbprod included;
   PSS (shared pages split between the processes sharing them) and RSS.

Kernel templates and warm nbprod started here live in a runtime folder of the benchmark's own
and are stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# bench/ is on sys.path when a benchmark runs as a script
from _common import BIN, bench_runtime, example_project, load, prepare_data, timed
from _memory import TreeMemory
from phases import breakdown, print_breakdown
from sweep import GRID, papermill_cmd, parallel, points, scripts

MB = 1024 * 1024


def sweep_contenders(project: Path, out: Path) -> dict[str, tuple[Callable[[], None],
                                                                  Callable[[], float]]]:
    """name -> (set-up, not timed; the sweep, returning its wall time)."""
    nbprod = str(BIN / "nbprod")
    grid = [arg for name, values in GRID.items()
            for arg in ("--grid", f"{name}={','.join(values)}")]
    sweep = [nbprod, "sweep", "train", *grid, "--workers", "2", "--json"]
    script_paths = scripts(project)

    def nothing() -> None: ...

    def stop_all() -> None:
        timed([nbprod, "kernels", "stop"], project)

    return {
        "papermill, 2 processes": (nothing, lambda: parallel(
            [papermill_cmd(p, out / f"pp{i}.ipynb") for i, p in enumerate(points())],
            project, 2)),
        "plain scripts, 2 at a time": (nothing, lambda: parallel(
            [[sys.executable, str(path)] for path in script_paths], project / "notebooks", 2)),
        "nbprod sweep, cold": (stop_all, lambda: timed(sweep, project)),
        "nbprod sweep, warm": (lambda: timed(sweep, project), lambda: timed(sweep, project)),
    }


def measure(setup: Callable[[], None], run: Callable[[], float], repeat: int,
            marker: str) -> tuple[float, int, int]:
    """Median wall time, and the highest peak PSS and RSS of the tree over the repeats."""
    times, pss, rss = [], 0, 0
    for _ in range(repeat):
        setup()
        with TreeMemory(marker) as memory:
            times.append(run())
        pss, rss = max(pss, memory.peak_pss), max(rss, memory.peak_rss)
    return statistics.median(times), pss, rss


def print_sweeps(results: dict[str, tuple[float, int, int]], repeats: dict[str, int]) -> None:
    scripts_s = results["plain scripts, 2 at a time"][0]
    papermill_s = results["papermill, 2 processes"][0]
    print("\n20-point sweep of train.ipynb, 2 at a time, whole wall time (median) and peak "
          "memory of the whole process tree")
    print(f"{'':<28} {'runs':>4} {'seconds':>8} {'/ scripts x2':>12} {'/ papermill x2':>14}"
          f" {'PSS MB':>7} {'RSS MB':>7}")
    for name, (seconds, pss, rss) in results.items():
        print(f"{name:<28} {repeats[name]:>4} {seconds:>8.2f} {seconds / scripts_s:>12.3f} "
              f"{seconds / papermill_s:>14.4f} {pss / MB:>7.0f} {rss / MB:>7.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs for the phases")
    parser.add_argument("--repeat", type=int, default=3, help="sweeps per nbprod and scripts")
    parser.add_argument("--papermill-repeat", type=int, default=1, help="papermill sweeps")
    args = parser.parse_args()
    start = time.perf_counter()
    with bench_runtime("nbprod-bench-cost-") as work:
        marker = f"XDG_RUNTIME_DIR={os.environ['XDG_RUNTIME_DIR']}"
        project = example_project(work)
        out = work / "out"
        out.mkdir()
        prepare_data(project)
        print(f"load average at start {load()}")
        medians = breakdown(project, "train", {"n_estimators": "10"}, args.runs)
        print_breakdown(medians, args.runs, "train (n_estimators=10)")
        contenders = sweep_contenders(project, out)
        # Warm-up: the file cache, and one run of each kind of process.
        timed(papermill_cmd(points()[0], out / "warm.ipynb"), project)
        results, repeats = {}, {}
        for name, (setup, run) in contenders.items():
            repeats[name] = args.papermill_repeat if name.startswith("papermill") \
                else args.repeat
            results[name] = measure(setup, run, repeats[name], marker)
        print_sweeps(results, repeats)
        print(f"\nload average at end {load()}; {time.perf_counter() - start:.0f} s in all")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
