"""Benchmark: `nbprod runs`, `nbprod runs --all --json` and a `--cache` hit at 100,000 runs.

    python bench/listing.py [--runs 100000] [--repeat 5]

Fills a SQLite registry with ``--runs`` finished runs (20 notebooks, 90% succeeded, three
values and two artifacts each) by bulk inserts, once: the file is kept in bench/.cache/ and
copied into a scratch project for each benchmark run. Then, as whole processes (wall time,
the launcher handing the command to its warm nbprod as every `nbprod` command does), medians
of ``--repeat``:

- `nbprod runs` (the newest 20), and `nbprod runs --all --json` with the time its first row
  reached stdout;
- `nbprod run trivial --cache` answered from a matching succeeded run (a cache hit), and the
  same with ``NBPROD_WARM=0`` (a fresh interpreter importing what the command needs).

It uses its own runtime folder, so the warm nbprod and kernel template it starts are its own,
and stops them at the end.

``--against DIR`` measures another version of nbprod too, interleaved with this one (so both
see the same machine load): DIR holds its ``nbprod/`` package, e.g.
``mkdir /tmp/base && git archive main nbprod | tar -x -C /tmp/base``; it runs with
``PYTHONPATH=DIR`` in the same virtualenv.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import BIN, ROOT, timed, trivial_notebook

from nbprod.registry import Registry
from nbprod.registry.schema import run_artifacts, run_values, runs

GENERATOR = 1  # bump when the generated rows change, so the cached registry is rebuilt
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _row(i: int, start: dt.datetime) -> dict[str, object]:
    started = start + dt.timedelta(seconds=37 * i)
    suffix = "".join(_ALPHABET[(i * 7919 >> s) & 31] for s in range(25, -1, -5))
    run_id = started.strftime("%Y%m%d-%H%M%S-") + f"{started.microsecond // 1000:03d}-{suffix}"
    failed = i % 10 == 3
    return {
        "run_id": run_id, "notebook": f"notebooks/nb_{i % 20:02d}.ipynb",
        "notebook_version": f"{i % 50:064x}", "state": "failed" if failed else "succeeded",
        "failure": {"kind": "cell_error", "message": "ValueError: bad", "cell_index": 3}
        if failed else None,
        "parameters": {"alpha": (i % 17) / 10, "n_rows": 100 + i % 900},
        "contract": [{"name": "alpha", "type": "float"}, {"name": "n_rows", "type": "int"}],
        "git_commit": f"{i % 300:040x}", "git_dirty": False, "environment_digest": "e" * 64,
        "python": "3.11.2", "input_digests": {}, "kernel": "python3", "user": f"user{i % 4}",
        "host": "bench", "runner_pid": 1, "runner_start": "1", "run_key": f"{i:064x}",
        "note": None, "started_at": started, "ended_at": started + dt.timedelta(seconds=2),
        "heartbeat_at": started, "job_run_id": None, "step": None, "upstream": None,
        "sweep_id": None, "point": None,
    }


def _extras(row: dict[str, object], i: int) -> tuple[list[dict[str, object]],
                                                     list[dict[str, object]]]:
    run_id = row["run_id"]
    values = [{"run_id": run_id, "name": "accuracy", "value": 0.5 + (i % 500) / 1000,
               "number": 0.5 + (i % 500) / 1000},
              {"run_id": run_id, "name": "rows", "value": 100 + i % 900, "number": 100 + i % 900},
              {"run_id": run_id, "name": "label", "value": f"model-{i % 7}", "number": None}]
    artifacts = [{"run_id": run_id, "name": name, "key": f"runs/{run_id}/{name}",
                  "sha256": f"{i:064x}", "size": 1000 + i % 5000}
                 for name in ("notebook.ipynb", "report.html")]
    return values, artifacts


def cached_registry(count: int) -> Path:
    """A registry file holding ``count`` generated runs, built once into bench/.cache/."""
    path = ROOT / "bench" / ".cache" / f"registry-{count}-g{GENERATOR}.db"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    registry = Registry.open(f"sqlite:///{partial}")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    try:
        with registry.engine.begin() as conn:
            for chunk in range(0, count, 5000):
                rows, values, artifacts = [], [], []
                for i in range(chunk, min(count, chunk + 5000)):
                    row = _row(i, start)
                    extra_values, extra_artifacts = _extras(row, i)
                    rows.append(row)
                    values += extra_values
                    artifacts += extra_artifacts
                conn.execute(runs.insert(), rows)
                conn.execute(run_values.insert(), values)
                conn.execute(run_artifacts.insert(), artifacts)
    finally:
        registry.close()
    os.replace(partial, path)
    print(f"(generated {count:,} runs into {path.relative_to(ROOT)} in "
          f"{time.perf_counter() - started:.1f} s)")
    return path


def first_line_and_total(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Seconds until the first line reached stdout, and until the process ended."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()
    first = time.perf_counter() - start
    while proc.stdout.read(1 << 16):
        pass
    stderr = proc.stderr.read() if proc.stderr else b""
    if proc.wait() != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{stderr.decode()[-3000:]}")
    return first, time.perf_counter() - start


def _wait_for_warm(env: dict[str, str], project: Path) -> None:
    """Run commands until a warm nbprod answers them (its start-up is not what we measure)."""
    probe = [sys.executable, "-c", "from nbprod.cli.launch import socket_path, warm_key; "
             "print(socket_path(warm_key()))"]
    sock = Path(subprocess.run(probe, env=env, capture_output=True, text=True,
                               check=True).stdout.strip())
    deadline = time.monotonic() + 60
    while not sock.exists() and time.monotonic() < deadline:
        subprocess.run([str(BIN / "nbprod"), "runs", "--last", "1"], cwd=project, env=env,
                       capture_output=True, check=False)
        time.sleep(0.5)


def measure(project: Path, env: dict[str, str], repeat: int) -> dict[str, list[float]]:
    nbprod = str(BIN / "nbprod")
    cold_env = {**env, "NBPROD_WARM": "0"}
    samples: dict[str, list[float]] = {"runs": [], "runs --all --json": [],
                                       "runs --all --json: first row": [],
                                       "cache hit": [], "cache hit, NBPROD_WARM=0": []}
    hit = [nbprod, "run", "trivial", "--cache", "--json"]
    for _ in range(repeat):
        samples["runs"].append(timed([nbprod, "runs"], project, env))
        first, total = first_line_and_total([nbprod, "runs", "--all", "--json"], project, env)
        samples["runs --all --json: first row"].append(first)
        samples["runs --all --json"].append(total)
        samples["cache hit"].append(timed(hit, project, env))
        samples["cache hit, NBPROD_WARM=0"].append(timed(hit, project, cold_env))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another nbprod version's folder")
    args = parser.parse_args()
    source = cached_registry(args.runs)
    work = Path(tempfile.mkdtemp(prefix="nbprod-bench-listing-"))
    rundir = work / "rt"
    rundir.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(rundir)}
    project = work / "project"
    try:
        (project / ".nbprod").mkdir(parents=True)
        (project / "nbprod.toml").write_text('notebook_dir = "notebooks"\n')
        (project / "notebooks").mkdir()
        trivial_notebook(project / "notebooks" / "trivial.ipynb")
        shutil.copy(source, project / ".nbprod" / "registry.db")
        timed([str(BIN / "nbprod"), "run", "trivial", "--cache"], project, env)  # to hit
        _wait_for_warm(env, project)
        versions = {"this": env}
        if args.against:
            versions["against"] = {**env, "PYTHONPATH": str(args.against.resolve())}
            _wait_for_warm(versions["against"], project)
        samples: dict[str, dict[str, list[float]]] = {name: {} for name in versions}
        for _ in range(args.repeat):
            for name, version_env in versions.items():
                for label, values in measure(project, version_env, 1).items():
                    samples[name].setdefault(label, []).extend(values)
        print(f"{args.runs:,} runs in a SQLite registry, medians of {args.repeat} whole-process "
              f"runs (load average {os.getloadavg()[0]:.2f})"
              + (f"; against {args.against}" if args.against else ""))
        for label, values in samples["this"].items():
            median = statistics.median(values)
            line = f"  nbprod {label:<34} {median:7.3f} s"
            if args.against:
                other = statistics.median(samples["against"][label])
                line += f"   against {other:7.3f} s   ratio {median / other:5.2f}"
            print(line)
    finally:
        subprocess.run([str(BIN / "nbprod"), "kernels", "stop"], cwd=project, env=env,
                       capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
