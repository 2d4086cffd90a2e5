"""Load: many writers on one registry, a 500-point sweep, a 10,000-cell notebook, a registry
with 100,000 runs. Timings are measured in bench/, never asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from ..conftest import run_json, write_notebook

pytestmark = pytest.mark.slow

_WRITER = """
import sys
from nbprod.lineage import this_runner
from nbprod.records import Lineage, RunRecord, new_run_id, utcnow
from nbprod.registry import Registry

url, writer, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
registry = Registry.open(url, busy_timeout=120)
runner = this_runner()
for i in range(count):
    run_id = new_run_id()
    record = RunRecord(run_id=run_id, notebook="load.ipynb", notebook_version="v",
                       state="running", started_at=utcnow(), parameters={"w": writer, "i": i},
                       lineage=Lineage(user="load", host=runner.host, runner_pid=runner.pid))
    registry.create_run(record, runner=runner)
    registry.heartbeat(run_id)
    assert registry.finish_run(run_id, state="succeeded", failure=None,
                               values={"score": writer * 1000 + i},
                               artifacts=[("record.json", f"runs/{run_id}/record.json",
                                           "0" * 64, 2)])
registry.close()
"""


def _url(project_dir: Path, backend: str) -> str:
    return backend or f"sqlite:///{project_dir / '.nbprod' / 'registry.db'}"


@pytest.mark.case("32 processes x 20 runs on one registry")
def test_many_writers_lose_nothing(project_dir: Path, backend: str, seen) -> None:  # type: ignore[no-untyped-def]
    url = _url(project_dir, backend)
    started = time.monotonic()
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, url, str(w), "20"],
                                stderr=subprocess.PIPE, text=True) for w in range(32)]
    errors = [(w.wait(timeout=900), w.stderr.read()) for w in writers]  # type: ignore[union-attr]
    assert all(code == 0 for code, _ in errors), [e for c, e in errors if c][:2]
    env = {"NBPROD_REGISTRY": backend} if backend else {}
    code, runs = run_json(project_dir, "runs", "--all", env=env)
    assert code == 0
    scores = sorted(r["values"]["score"] for r in runs)
    seen(f"{len(runs)} runs, all succeeded, in {time.monotonic() - started:.0f} s")
    assert len(runs) == 640 and all(r["state"] == "succeeded" for r in runs)
    assert scores == sorted(w * 1000 + i for w in range(32) for i in range(20))
    assert all(len(r["artifacts"]) == 1 for r in runs)


@pytest.mark.case("nbprod runs with 100,000 runs in the registry")
def test_listing_a_large_registry(project_dir: Path, backend: str, seen) -> None:  # type: ignore[no-untyped-def]
    from nbprod.records import utcnow
    from nbprod.registry import Registry
    from nbprod.registry.schema import runs

    url = _url(project_dir, backend)
    Registry.open(url).close()  # created and migrated
    engine = sa.create_engine(url)
    now = utcnow()
    with engine.begin() as conn:
        for start in range(0, 100_000, 10_000):
            conn.execute(runs.insert(), [
                {"run_id": f"20260101-000000-000-{i:06d}", "notebook": f"nb{i % 50}.ipynb",
                 "state": "failed" if i % 97 == 0 else "succeeded", "parameters": {"i": i},
                 "contract": [], "input_digests": {}, "started_at": now, "ended_at": now,
                 "heartbeat_at": now} for i in range(start, start + 10_000)])
    engine.dispose()
    env = {"NBPROD_REGISTRY": backend} if backend else {}
    started = time.monotonic()
    code, last = run_json(project_dir, "runs", env=env)
    listed = time.monotonic() - started
    assert code == 0 and len(last) == 20
    code, failed = run_json(project_dir, "runs", "--state", "failed", "--last", "5",
                            "-n", "nb0.ipynb", env=env)
    assert code == 0 and len(failed) == 5
    assert all(r["state"] == "failed" and r["notebook"] == "nb0.ipynb" for r in failed)
    seen(f"20 newest of 100,000 listed (exit 0; {listed:.1f} s, see bench/)")


@pytest.mark.case("a 500-point sweep")
@pytest.mark.timeout(1800)
def test_a_500_point_sweep(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    write_notebook(project_dir / "point.ipynb", "i: int = 0",
                   "import nbprod\nnbprod.record('square', i * i)")
    started = time.monotonic()
    code, report = run_json(project_dir, "sweep", "point.ipynb", "--grid",
                            "i=" + ",".join(str(i) for i in range(500)), timeout=3600)
    seen(f"{report['counts']} in {time.monotonic() - started:.0f} s")
    assert code == 0 and report["counts"] == {"succeeded": 500}
    assert sorted(p["values"]["square"] for p in report["points"]) == \
        [i * i for i in range(500)]
    code, runs = run_json(project_dir, "runs", "--sweep", report["sweep_id"])
    assert code == 0 and len(runs) == 500


@pytest.mark.case("a 10,000-cell notebook")
@pytest.mark.timeout(1800)
def test_a_10000_cell_notebook(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    cells = [f"x{i} = {i}" for i in range(9_999)] + ["import nbprod\nnbprod.record('n', x9998)"]
    write_notebook(project_dir / "wide.ipynb", None, *cells)
    started = time.monotonic()
    code, record = run_json(project_dir, "run", "wide.ipynb", timeout=3600)
    seen(f"{record['state']}, {len(cells)} cells in {time.monotonic() - started:.0f} s")
    assert code == 0 and record["state"] == "succeeded"
    assert record["values"] == {"n": 9998}
    stored = next(a["path"] for a in record["artifacts"] if a["name"] == "notebook.ipynb")
    assert len(json.loads(Path(stored).read_text())["cells"]) == 10_000
    assert os.path.getsize(stored) > 0
