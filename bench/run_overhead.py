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
import tempfile
from pathlib import Path

# bench/ is on sys.path when a benchmark runs as a script
from _common import BIN, example_project, prepare_data, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per tool and notebook")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="nbprod-bench-"))
    try:
        project = example_project(work)
        nbprod, papermill = str(BIN / "nbprod"), str(BIN / "papermill")
        prepare_data(project)  # data for train.ipynb, for both tools

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
