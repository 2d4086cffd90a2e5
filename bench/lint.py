"""Benchmark: `nbprod lint` against `ruff check` on the same folder of notebooks, same session.

    python bench/lint.py [--notebooks 500] [--repeat 5]

Generates varied notebooks (sizes, markdown, outputs including HTML tables and images,
magics, shell escapes, parameters cells, some with real findings) and times whole processes,
interleaved:

- warm, as both tools run by default on a folder that did not change: `ruff check` with its
  cache, `nbprod lint` with its cache (and results already recorded in the registry);
- cold: `ruff check --no-cache` and `nbprod lint --no-cache` (every notebook parsed, every
  rule run, ruff run underneath, results recorded).

ruff runs the same Python checks nbprod asks it for (F821, F401, F811, E9). Prints medians and
the ratio nbprod / ruff.

``--against DIR`` also times the cold lint of another nbprod version, interleaved with this
one so both see the same load (DIR holds that version's ``nbprod/`` package, for instance
``mkdir /tmp/base && git archive <commit> nbprod | tar -x -C /tmp/base``; it goes on
``PYTHONPATH``, so it gets its own warm nbprod).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _common import BIN  # importing it also drops PYTHONDONTWRITEBYTECODE (normal_bytecode)

RUFF_SELECT = "F821,F401,F811,E9"
_PNG = base64.b64encode(bytes(range(256)) * 8).decode()


def _cell(kind: str, source: str, **extra: object) -> dict[str, object]:
    cell: dict[str, object] = {"cell_type": kind, "id": f"c{random.getrandbits(40):x}",
                               "metadata": {}, "source": source}
    if kind == "code":
        cell.update({"execution_count": None, "outputs": []})
    cell.update(extra)
    return cell


def _code(rng: random.Random, i: int) -> str:
    lines = ["import numpy as np", "import pandas as pd", "from pathlib import Path"]
    if rng.random() < 0.2:
        lines.insert(0, "%matplotlib inline")
    if rng.random() < 0.05:
        lines.append("!ls data")
    for k in range(rng.randint(3, 25)):
        choice = rng.random()
        if choice < 0.3:
            lines.append(f"x{k} = np.arange({rng.randint(5, 500)}) * alpha")
        elif choice < 0.5:
            lines.append(f"df{k} = pd.DataFrame({{'a': range({k + 3}), 'b': range({k + 3})}})")
        elif choice < 0.7:
            lines.append(f"for j in range({k + 1}):\n    total_{k} = j * {k} + n_rows")
        elif choice < 0.85:
            lines.append(f"def f{k}(v):\n    return v ** {k % 4 + 1} + alpha\n")
        else:
            lines.append(f"print(f'step {i}.{k}:', Path('data') / 'x{k}.csv')")
    if rng.random() < 0.05:
        lines.append("print(undefined_thing)")
    return "\n".join(lines)


def _outputs(rng: random.Random) -> list[dict[str, object]]:
    outputs: list[dict[str, object]] = []
    if rng.random() < 0.4:
        outputs.append({"output_type": "stream", "name": "stdout",
                        "text": "".join(f"line {n}: {rng.random():.6f}\n"
                                        for n in range(rng.randint(1, 40)))})
    if rng.random() < 0.2:
        rows = "".join(f"<tr><td>{n}</td><td>{rng.random():.4f}</td></tr>"
                       for n in range(rng.randint(3, 60)))
        outputs.append({"output_type": "execute_result", "execution_count": 1, "metadata": {},
                        "data": {"text/html": f"<table>{rows}</table>",
                                 "text/plain": "a table"}})
    if rng.random() < 0.05:
        outputs.append({"output_type": "display_data", "metadata": {},
                        "data": {"image/png": _PNG, "text/plain": "<Figure>"}})
    return outputs


def make_notebooks(folder: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for i in range(count):
        cells = [_cell("markdown", f"# Notebook {i}\n\nWhat it does, in prose.")]
        if rng.random() < 0.9:
            cells.append(_cell("code", f"alpha: float = {rng.random():.3f}  # weight\n"
                                       f"n_rows: int = {rng.randint(10, 999)}  # rows",
                               metadata={"tags": ["parameters"]}))
        executed = rng.random() < 0.5
        for k in range(rng.randint(4, 30)):
            if rng.random() < 0.25:
                cells.append(_cell("markdown", f"## Part {k}\n\nSome explanation {k}."))
            else:
                cell = _cell("code", _code(rng, i))
                if executed:
                    cell["execution_count"] = k + 1
                    cell["outputs"] = _outputs(rng)
                cells.append(cell)
        notebook = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
                    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                "language": "python"}}}
        (folder / f"nb_{i:04d}.ipynb").write_text(json.dumps(notebook, indent=1))


def timed(cmd: list[str], cwd: Path, ok_codes: tuple[int, ...] = (0, 1),
          env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok_codes:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another nbprod version's folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nbprod-bench-lint-"))
    try:
        (work / "nbprod.toml").write_text('notebook_dir = "notebooks"\n')
        make_notebooks(work / "notebooks", args.notebooks)
        ruff = [str(BIN / "ruff"), "check", "--isolated", "--select", RUFF_SELECT, "--exit-zero",
                "--output-format", "concise", "notebooks"]
        nbprod = [str(BIN / "nbprod"), "lint", "notebooks"]
        cases = {
            "warm": {"ruff check": ruff, "nbprod lint": nbprod},
            "cold": {"ruff check": [*ruff[:2], "--no-cache", *ruff[2:]],
                     "nbprod lint": [*nbprod, "--no-cache"]},
        }
        for commands in cases.values():
            for cmd in commands.values():
                timed(cmd, work)  # warms caches (warm case) and checks both tools run
        size = sum(p.stat().st_size for p in (work / "notebooks").iterdir()) / 1e6
        print(f"{args.notebooks} notebooks ({size:.1f} MB), medians of {args.repeat} "
              f"whole-process runs (load average {os.getloadavg()[0]:.2f})")
        print(f"{'case':<6} {'ruff check (s)':>15} {'nbprod lint (s)':>16} {'ratio':>7}")
        for case, commands in cases.items():
            samples: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(args.repeat):
                for name, cmd in commands.items():
                    samples[name].append(timed(cmd, work))
            ruff_s = statistics.median(samples["ruff check"])
            ours = statistics.median(samples["nbprod lint"])
            print(f"{case:<6} {ruff_s:>15.3f} {ours:>16.3f} {ours / ruff_s:>7.2f}")
        print("ratio = nbprod lint / ruff check; warm is what a repeated run in CI or a "
              "pre-commit hook costs")
        if args.against:
            _against(cases["cold"]["nbprod lint"], work, args.against, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _against(cmd: list[str], work: Path, other: Path, repeat: int) -> None:
    """The cold lint of this version and of ``other``, alternating."""
    # each version records into a registry of its own (their schemas may differ)
    versions = {"this": {**os.environ, "NBPROD_REGISTRY": f"sqlite:///{work}/this.db"},
                "against": {**os.environ, "PYTHONPATH": str(other.resolve()),
                            "NBPROD_REGISTRY": f"sqlite:///{work}/against.db"}}
    for env in versions.values():
        for _ in range(2):  # starts its warm nbprod
            timed(cmd, work, env=env)
    samples: dict[str, list[float]] = {name: [] for name in versions}
    for _ in range(repeat):
        for name, env in versions.items():
            samples[name].append(timed(cmd, work, env=env))
    this, before = (statistics.median(samples[name]) for name in versions)
    print(f"cold, this version {this:.3f} s, against {other} {before:.3f} s, "
          f"ratio {this / before:.2f} (medians of {repeat}, alternating; load average "
          f"{os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
