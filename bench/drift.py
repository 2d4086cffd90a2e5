"""Benchmark: `nbprod drift` against Evidently's data-drift preset on the same data.

    python bench/drift.py [--rows 100000 1000000] [--repeat 1]

For each size it writes a reference and a current Parquet file of 20 mixed columns (12
numeric, 4 categorical, 2 boolean, 1 count, 1 date) with a known shift in four of them
(a mean shift in two numeric columns, a category share change, a boolean rate change), then
runs, each in a fresh process:

- nbprod: ``nbprod drift reference.parquet current.parquet --html report.html --json``
  (profiles both files, compares the profiles, writes the HTML report);
- Evidently: ``Report([DataDriftPreset()]).run(current, reference)`` and ``save_html``, in its
  own virtual environment (``bench/.cache/venv-evidently``, built here once with pip:
  Evidently 0.7 needs pandas < 3, which nbprod's own environment does not constrain).

It prints the median wall time of the whole process, its peak memory (max RSS), the HTML
report's size, the columns each tool flags and whether they agree, and nbprod's ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVIDENTLY_VENV = ROOT / "bench" / ".cache" / "venv-evidently"
EVIDENTLY = "evidently==0.7.23"
SHIFTED = ["num00", "num01", "cat0", "flag0"]

# Runs inside Evidently's environment: run the preset, save the HTML, print flagged columns.
EVIDENTLY_RUNNER = r"""
import json, sys
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
reference = pd.read_parquet(sys.argv[1])
current = pd.read_parquet(sys.argv[2])
snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
snapshot.save_html(sys.argv[3])
flagged = []
for metric in snapshot.dict()["metrics"]:
    config = metric.get("config", {})
    column = config.get("column")
    if not column or not str(config.get("type", "")).endswith("ValueDrift"):
        continue
    threshold = float(config["threshold"])
    value = float(metric["value"])
    # p-value tests drift below their threshold, distances above it
    if (value < threshold) if "p_value" in str(config.get("method")) else (value >= threshold):
        flagged.append(column)
print(json.dumps({"flagged": sorted(flagged)}))
"""


def make_data(rows: int, folder: Path) -> tuple[Path, Path]:
    import numpy as np
    import pandas as pd

    def frame(seed: int, shifted: bool) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        columns: dict[str, object] = {}
        for i in range(12):
            shift = 0.5 * (1 + i) if shifted and i < 2 else 0.0
            columns[f"num{i:02d}"] = rng.normal(10.0 * i + shift, 1.0 + i, rows)
        shares = np.array([0.4, 0.3, 0.2, 0.1])
        for i in range(4):
            p = shares + (np.array([-0.2, 0.2, 0.0, 0.0]) if shifted and i == 0 else 0.0)
            columns[f"cat{i}"] = pd.Categorical.from_codes(
                rng.choice(4, size=rows, p=p), ["north", "south", "east", "west"])
        for i in range(2):
            columns[f"flag{i}"] = rng.random(rows) < (0.5 if shifted and i == 0 else 0.3)
        columns["visits"] = rng.poisson(3.0, rows)
        columns["seen"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(
            rng.integers(0, 30 * 86400, rows), unit="s")
        return pd.DataFrame(columns)

    reference, current = folder / f"reference-{rows}.parquet", folder / f"current-{rows}.parquet"
    frame(1, False).to_parquet(reference)
    frame(2, True).to_parquet(current)
    return reference, current


def measured(command: list[str], cwd: Path) -> tuple[float, int, str]:
    """Wall time (s), peak RSS (bytes) and stdout of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={k: v for k, v in os.environ.items()
                                 if not k.startswith("NBPROD_")} | {"NBPROD_WARM": "0"})
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):  # nbprod drift exits 1 when it finds drift
        raise SystemExit(f"{command[0]} failed ({proc.returncode}):\n{err[-3000:]}")
    return seconds, usage.ru_maxrss * 1024, out


def evidently_python() -> Path:
    python = EVIDENTLY_VENV / "bin" / "python"
    if not python.exists():
        print(f"building {EVIDENTLY_VENV} ({EVIDENTLY}, pandas<3, pyarrow) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", EVIDENTLY, "pandas<3",
                        "pyarrow"], check=True)
    return python


def run_size(rows: int, repeat: int, folder: Path, evidently: Path) -> dict[str, object]:
    # The data is made in a child process: a child's peak RSS (ru_maxrss) starts from its
    # parent's size at fork, so this process must stay small for the measurements to be fair.
    subprocess.run([sys.executable, __file__, "--make", str(rows), str(folder)], check=True)
    reference, current = folder / f"reference-{rows}.parquet", folder / f"current-{rows}.parquet"
    nbprod = Path(sys.executable).with_name("nbprod")
    results: dict[str, object] = {"rows": rows}
    for tool in ("nbprod", "evidently"):
        html = folder / f"{tool}-{rows}.html"
        if tool == "nbprod":
            command = [str(nbprod), "drift", str(reference), str(current), "--html", str(html),
                       "--json"]
        else:
            command = [str(evidently), "-c", EVIDENTLY_RUNNER, str(reference), str(current),
                       str(html)]
        samples = [measured(command, folder) for _ in range(repeat)]
        out = json.loads(samples[-1][2])
        flagged = sorted(out["drifted_columns"] if tool == "nbprod" else out["flagged"])
        results[tool] = {"seconds": statistics.median(s[0] for s in samples),
                         "peak_bytes": max(s[1] for s in samples),
                         "report_bytes": html.stat().st_size, "flagged": flagged}
    return results


def show(result: dict[str, object]) -> None:
    ours, theirs = result["nbprod"], result["evidently"]
    assert isinstance(ours, dict) and isinstance(theirs, dict)
    print(f"\n{result['rows']:,} rows x 20 columns (shifted: {', '.join(SHIFTED)})")
    print(f"  {'':10} {'wall s':>8} {'peak MB':>9} {'report KB':>10}  flagged")
    for name, data in (("nbprod", ours), ("evidently", theirs)):
        print(f"  {name:10} {data['seconds']:8.2f} {data['peak_bytes'] / 2**20:9.0f} "
              f"{data['report_bytes'] / 1024:10.0f}  {', '.join(data['flagged'])}")
    print(f"  nbprod/evidently: wall {ours['seconds'] / theirs['seconds']:.2f}x, memory "
          f"{ours['peak_bytes'] / theirs['peak_bytes']:.2f}x, report "
          f"{ours['report_bytes'] / theirs['report_bytes']:.3f}x; same columns flagged: "
          f"{'yes' if ours['flagged'] == theirs['flagged'] else 'no'}; nbprod flags exactly "
          f"the shifted ones: {'yes' if ours['flagged'] == sorted(SHIFTED) else 'no'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool and size")
    parser.add_argument("--make", nargs=2, metavar=("ROWS", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        make_data(int(args.make[0]), Path(args.make[1]))
        return
    evidently = evidently_python()
    with tempfile.TemporaryDirectory(prefix="nbprod-bench-drift-") as tmp:
        for rows in args.rows:
            show(run_size(rows, args.repeat, Path(tmp), evidently))


if __name__ == "__main__":
    main()
