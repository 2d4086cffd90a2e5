"""Benchmark: what `import nbprod` plus one `nbprod.record(...)` costs inside a kernel.

    python bench/record_cost.py [--kernels 7] [--without-jupyterlab]

Each sample starts a fresh plain ipykernel (no fork template, nothing pre-imported), runs one cell
that times ``import nbprod; nbprod.record("accuracy", 0.93)`` with ``time.perf_counter`` inside
the kernel, and checks which heavy modules that import dragged in. For comparison it times
``import scrapbook; scrapbook.glue(...)`` the same way when scrapbook is installed. ipywidgets
(a dependency, for ``nbprod.widgets``) is installed in both environments and must not load.

``--without-jupyterlab`` also measures in a second virtual environment that holds nbprod's own
dependencies only (no JupyterLab, no jupyter-server), built once under ``bench/.cache/`` with pip.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE_VENV = ROOT / "bench" / ".cache" / "venv-core"
HEAVY = ("jsonschema", "nbformat", "papermill", "sqlalchemy", "rfc3987_syntax", "jupyter_server",
         "ipywidgets")

CELL = """
import time as _t, sys as _s, json as _j
_before = set(_s.modules)
_t0 = _t.perf_counter()
{code}
_dt = _t.perf_counter() - _t0
print(_j.dumps({{"seconds": _dt, "heavy": sorted(m for m in {heavy!r} if m in _s.modules
                                                  and m not in _before)}}))
"""

# Runs in the measured environment's interpreter: start a kernel, run CELL, print its JSON line.
DRIVER = """
import json, sys
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="python3")
try:
    lines = []
    kc.execute_interactive(sys.argv[1], timeout=60,
                           output_hook=lambda m: lines.append(m["content"].get("text", ""))
                           if m["msg_type"] == "stream" else None)
    print("".join(lines).strip().splitlines()[-1])
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
"""


def sample(python: Path, code: str, capture: Path) -> dict[str, object]:
    env = dict(os.environ, NBPROD_CAPTURE_DIR=str(capture))
    cell = CELL.format(code=code, heavy=HEAVY)
    proc = subprocess.run([str(python), "-c", DRIVER, cell], capture_output=True, text=True,
                          check=False, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"kernel sample failed in {python}:\n{proc.stderr[-2000:]}")
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def measure(python: Path, code: str, count: int) -> tuple[float, list[str]]:
    times: list[float] = []
    heavy: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="nbprod-bench-") as tmp:
        for _ in range(count):
            result = sample(python, code, Path(tmp))
            times.append(float(str(result["seconds"])))
            heavy.update(str(m) for m in result["heavy"])  # type: ignore[attr-defined]
    return statistics.median(times), sorted(heavy)


def has_module(python: Path, name: str) -> bool:
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({name!r}) is None)"
    return subprocess.run([str(python), "-c", probe], check=False).returncode == 0


def core_venv() -> Path:
    python = CORE_VENV / "bin" / "python"
    if not python.exists():
        print(f"building {CORE_VENV} (nbprod's own dependencies, no JupyterLab) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(CORE_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                        "-c", str(ROOT / "constraints.txt"), str(ROOT)], check=True)
    else:  # keep the installed nbprod current with this checkout
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps",
                        "--force-reinstall", str(ROOT)], check=True)
    return python


def report(label: str, python: Path, count: int) -> None:
    jupyterlab = has_module(python, "jupyterlab")
    server = has_module(python, "jupyter_server")
    widgets = has_module(python, "ipywidgets")
    print(f"\n{label}: {python}\n  JupyterLab installed: {jupyterlab}, "
          f"jupyter-server installed: {server}, ipywidgets installed: {widgets}")
    ours, heavy = measure(python, 'import nbprod\nnbprod.record("accuracy", 0.93)', count)
    print(f"  import nbprod + nbprod.record  median {ours * 1000:7.1f} ms over {count} kernels"
          f"   heavy modules loaded: {', '.join(heavy) or 'none'}")
    if has_module(python, "scrapbook"):
        theirs, _ = measure(python, 'import scrapbook\nscrapbook.glue("accuracy", 0.93)', count)
        print(f"  import scrapbook + glue        median {theirs * 1000:7.1f} ms   "
              f"ratio nbprod/scrapbook {ours / theirs:.5f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", type=int, default=7, help="fresh kernels per measurement")
    parser.add_argument("--without-jupyterlab", action="store_true",
                        help="also measure in a venv with nbprod's own dependencies only")
    args = parser.parse_args()
    report("this environment", Path(sys.executable), args.kernels)
    if args.without_jupyterlab:
        report("without JupyterLab", core_venv(), args.kernels)


if __name__ == "__main__":
    main()
