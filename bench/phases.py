"""Benchmark: where one warm run's time goes, phase by phase, beside its cells' own time.

    python bench/phases.py [--runs 15] [--notebook train] [-p n_estimators=10] [--pause 0]
                           [--forked]

In one process (as the warm nbprod runs a command), on a copy of the example project, it
runs the notebook a few times to warm everything (kernel template, report exporter, file
cache), then ``--runs`` more, each through ``nbprod.api.run_notebook`` with an observer that
notes when each phase begins (``RunObserver.phase``): prepare (read and check the notebook
and parameters, lineage), registry, kernel (fork, kernel ready), execute (the cells, as
the runner sees them), shutdown, report, store. It prints each phase's median, the runner's
wall time, the cells' own time (what the kernel says each cell took: the execute_input to
execute_reply timestamps nbclient records) and the overhead (wall time minus cells' time).

With ``--forked`` each run is made in a child forked from a process that has preloaded what
the warm nbprod preloads, which first rehearses as the warm nbprod's spare does before it
takes a command, as ``nbprod run`` is: nothing one run leaves in the process (a report's
remembered parts, caches filled on first use) helps the next.

Runs follow each other at once; ``--pause S`` waits S seconds between them, as separate
commands (or a person) would, so what a template does between two runs (a spare kernel's
start) is off the next run's path, as it is outside a tight loop.

A regression shows up here as one phase growing. Kernel templates started here live in a
runtime folder of the benchmark's own and are stopped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

# bench/ is on sys.path when a benchmark runs as a script
from _common import BIN, bench_runtime, example_project, load, timed

PHASES = ("prepare", "registry", "kernel", "execute", "shutdown", "report", "store")


class PhaseClock:
    """A RunObserver that adds the time between phase marks to the phase that was open."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self._open: str | None = None
        self._since = 0.0

    def phase(self, name: str) -> None:
        now = time.perf_counter()
        if self._open is not None:
            self.spent[self._open] += now - self._since
        self._open, self._since = name, now

    def close(self) -> None:
        self.phase("")

    # the rest of RunObserver: nothing to show
    def run_started(self, run_id: str, notebook: str, total_cells: int) -> None: ...

    def cell_started(self, index: int | None, total: int, label: str) -> None: ...

    def cell_finished(self, index: int | None, total: int) -> None: ...

    def finishing(self) -> None: ...


def cells_seconds(notebook: dict[str, Any]) -> float:
    """The kernel's own time for the code cells: execute_input to execute_reply."""
    total = 0.0
    for cell in notebook["cells"]:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            start, end = (dt.datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                          for k in ("iopub.execute_input", "shell.execute_reply"))
            total += (end - start).total_seconds()
    return total


def breakdown(project: Path, notebook: str, parameters: dict[str, str], runs: int,
              warmup: int = 3, pause: float = 0.0, forked: bool = False) -> dict[str, float]:
    """Medians (seconds) per phase, of the wall time, the cells' time and the overhead."""
    from nbprod import api
    from nbprod.api.runs import RunRequest, run_notebook
    from nbprod.config import load_settings

    os.chdir(project)
    given = {k: api.GivenValue(v, source="-p", raw=True) for k, v in parameters.items()}
    request = RunRequest(notebook=notebook, parameters=given, wait_for_template=True)
    samples: dict[str, list[float]] = defaultdict(list)

    def one_run() -> dict[str, float]:
        with api.open_project(load_settings(env=os.environ), os.environ) as proj:
            clock = PhaseClock()
            start = time.perf_counter()
            record = run_notebook(proj, request, clock)  # type: ignore[arg-type]
            wall = time.perf_counter() - start
            clock.close()
            if record.state != "succeeded":
                raise SystemExit(f"run failed: {record.failure}")
            stored = json.loads(proj.store.read_bytes(f"runs/{record.run_id}/notebook.ipynb"))
        cells = cells_seconds(stored)
        return {**{name: clock.spent.get(name, 0.0) for name in PHASES},
                "wall": wall, "cells": cells, "overhead": wall - cells}

    if forked:
        import gc

        from nbprod.cli.warm import _preload

        _preload()
        gc.collect()
        gc.freeze()
    def rehearsed_run() -> dict[str, float]:
        # as the warm nbprod's spare (nbprod/cli/spare.py) before it takes a command
        import gc

        from nbprod.cli.warm import _rehearse

        _rehearse()
        gc.collect()
        gc.freeze()
        return one_run()

    for index in range(warmup + runs):
        time.sleep(pause)
        spent = in_child(rehearsed_run) if forked else one_run()
        if index >= warmup:
            for name, value in spent.items():
                samples[name].append(value)
    return {name: statistics.median(values) for name, values in samples.items()}


def in_child(work: Any) -> dict[str, float]:
    """``work()`` in a forked child; its result comes back through a pipe."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read)
            os.write(write, json.dumps(work()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status or not data:
        raise SystemExit(f"the forked run failed (wait status {status})")
    result: dict[str, float] = json.loads(data)
    return result


def print_breakdown(medians: dict[str, float], runs: int, label: str,
                    where: str = "in one process") -> None:
    print(f"one warm run of {label}, median of {runs} runs {where} (ms)")
    for name in PHASES:
        print(f"  {name:<10} {medians[name] * 1000:>8.1f}")
    print(f"  {'wall':<10} {medians['wall'] * 1000:>8.1f}   runner wall time")
    print(f"  {'cells':<10} {medians['cells'] * 1000:>8.1f}   the cells' own time (kernel)")
    print(f"  {'overhead':<10} {medians['overhead'] * 1000:>8.1f}   wall - cells")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs (after warm-up)")
    parser.add_argument("--notebook", default="train")
    parser.add_argument("-p", dest="params", action="append", default=None,
                        metavar="NAME=VALUE", help="a parameter (default n_estimators=10)")
    parser.add_argument("--pause", type=float, default=0.0, metavar="S",
                        help="seconds between two runs (default 0: one after the other)")
    parser.add_argument("--forked", action="store_true",
                        help="each run in a fork of a preloaded process, as `nbprod run` is")
    args = parser.parse_args()
    params = dict(p.split("=", 1) for p in (args.params or ["n_estimators=10"]))
    with bench_runtime() as work:
        project = example_project(work)
        timed([str(BIN / "nbprod"), "run", "prepare"], project)
        medians = breakdown(project, args.notebook, params, args.runs, pause=args.pause,
                            forked=args.forked)
        print(f"load average {load()}")
        print_breakdown(medians, args.runs,
                        f"{args.notebook} ({', '.join(f'{k}={v}' for k, v in params.items())})",
                        "each forked from a preloaded process" if args.forked else
                        "in one process")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
