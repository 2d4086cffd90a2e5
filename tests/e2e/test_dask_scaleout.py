"""Scale-out for real: a sweep on a separately started Dask scheduler with two workers,
artifacts on S3 (a moto server), the registry on PostgreSQL; one worker is killed mid-sweep.

Needs NBPROD_TEST_POSTGRES_URL (`.ci/run` starts PostgreSQL) and moto[server] + s3fs + dask
(dev dependencies); skips without them unless NBPROD_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import run_cli, run_json, stop_processes, write_notebook
from ..integration.test_postgres import pg_url  # noqa: F401 - fixture
from ..store.conftest import S3, bucket, moto_server, s3  # noqa: F401 - fixtures

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
BIN = Path(sys.executable).parent


def _point_notebook(path: Path) -> None:
    write_notebook(path, "i: int = 0  # the point\nsleep: float = 0.0  # seconds",
                   "import time, nbprod\n"
                   "time.sleep(sleep)\n"
                   "with open(nbprod.output_path('square.txt'), 'w') as handle:\n"
                   "    handle.write(str(i * i))\n"
                   "nbprod.record('square', i * i)")


@pytest.fixture
def cluster(tmp_path: Path, s3: S3) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:  # noqa: F811
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1 (no nanny: a killed
    worker stays dead; no retries: its task fails with KilledWorker)."""
    if shutil.which("dask", path=str(BIN)) is None:
        pytest.skip("dask is not installed")
    env = {**os.environ, **s3.env, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0",
           "NBPROD_WARM": "0"}
    scheduler_file = tmp_path / "scheduler.json"
    log = (tmp_path / "dask.log").open("ab")
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--no-dashboard", "--scheduler-file",
                               str(scheduler_file)], env=env, stdout=log, stderr=log,
                              cwd=tmp_path)]
    deadline = time.monotonic() + 60
    while not scheduler_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    address = json.loads(scheduler_file.read_text())["address"]
    for _ in range(2):
        procs.append(subprocess.Popen(
            [str(BIN / "dask"), "worker", address, "--no-nanny", "--nthreads", "1",
             "--no-dashboard", "--host", "127.0.0.1"], env=env, stdout=log, stderr=log,
            cwd=tmp_path))
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(2, timeout=60)
    try:
        yield address, procs[1:]
    finally:
        stop_processes(procs)
        log.close()


def test_sweep_on_a_dask_cluster_with_s3_and_postgres_survives_a_killed_worker(
        tmp_path: Path, pg_url: str, s3: S3, bucket: str,  # noqa: F811
        cluster: tuple[str, list[subprocess.Popen[bytes]]]) -> None:
    address, workers = cluster
    project = tmp_path / "scale"
    project.mkdir()
    (project / "nbprod.toml").write_text('notebook_dir = "."\n')
    _point_notebook(project / "point.ipynb")
    env = {**s3.env, "NBPROD_REGISTRY": pg_url, "NBPROD_STORE": f"s3://{bucket}/artifacts",
           "NBPROD_WARM": "0"}
    full_env = {**{k: v for k, v in os.environ.items() if not k.startswith("NBPROD_")}, **env}
    sweep = subprocess.Popen(
        [sys.executable, "-m", "nbprod", "sweep", "point.ipynb", "--grid", "i=1,2,3,4,5,6,7,8",
         "-p", "sleep", "3", "--executor", "dask", "--dask-scheduler", address, "--json"],
        cwd=project, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Kill one worker while it is running a point.
    deadline = time.monotonic() + 120
    killed = False
    while time.monotonic() < deadline and not killed:
        code, runs = run_json(project, "runs", "--state", "running", env=env)
        if code == 0 and runs:
            workers[0].send_signal(signal.SIGKILL)
            killed = True
        time.sleep(0.3)
    assert killed, "no point started running"
    out, err = sweep.communicate(timeout=300)
    report = json.loads(out)
    assert sweep.returncode == 4, err.decode()  # lost points: an infrastructure failure
    states = [p["state"] for p in report["points"]]
    assert all(s in ("succeeded", "lost", "failed") for s in states), states
    assert "lost" in states and states.count("succeeded") >= 4
    lost = [p for p in report["points"] if p["state"] == "lost"]
    assert all(p["run_id"] and "KilledWorker" in (p["error"] or "") for p in lost), lost
    # Every run of the sweep is in a final state in PostgreSQL; artifacts are on S3.
    code, runs = run_json(project, "runs", "--sweep", report["sweep_id"], env=env)
    assert code == 0 and {r["state"] for r in runs} <= {"succeeded", "lost"}
    fs = s3.filesystem()
    for record in runs:
        if record["state"] == "succeeded":
            paths = [a["path"] for a in record["artifacts"]]
            assert all(p.startswith(f"s3://{bucket}/artifacts/") for p in paths)
            square = next(a for a in record["artifacts"] if a["name"] == "files/square.txt")
            assert fs.cat_file(square["path"][5:]).decode() == str(
                record["parameters"]["i"] ** 2)
    text = run_cli(project, "runs", "--sweep", report["sweep_id"], env=env)
    assert "lost" in text.stdout
