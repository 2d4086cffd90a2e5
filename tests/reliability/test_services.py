"""Services that fail under a run: the S3 server stops mid-run; PostgreSQL restarts
mid-sweep (a cluster of this test's own, so no one else's database is touched)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import require, require_root, run_json, write_notebook
from ..store.conftest import CREDENTIALS, _wait_until_up, free_port

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("NBPROD_")}


@pytest.mark.case("S3 server stopped mid-run")
def test_s3_server_stopped_mid_run(project_dir: Path, tmp_path: Path, seen) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              cwd=tmp_path)
    try:
        require(_wait_until_up(server, endpoint, timeout=30) is None, "moto's S3 server")
        import s3fs

        s3fs.S3FileSystem(key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                          secret=CREDENTIALS["AWS_SECRET_ACCESS_KEY"], endpoint_url=endpoint,
                          skip_instance_cache=True).mkdir("midrun")
        write_notebook(project_dir / "slow.ipynb", None, "import time\ntime.sleep(6)")
        env = {**_env(), **CREDENTIALS, "AWS_ENDPOINT_URL": endpoint,
               "AWS_EC2_METADATA_DISABLED": "true", "NBPROD_STORE": "s3://midrun/artifacts",
               "AWS_MAX_ATTEMPTS": "2"}
        runner = subprocess.Popen([sys.executable, "-m", "nbprod", "run", "slow.ipynb", "--json"],
                                  cwd=project_dir, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        time.sleep(3)  # the kernel is in its sleep
    finally:
        server.terminate()
        server.wait(timeout=10)
    out, err = runner.communicate(timeout=300)
    error = json.loads(out)["error"]
    seen(f"{error['type']}, exit {runner.returncode}")
    assert runner.returncode == 4, err
    assert error["message"].startswith("cannot reach the store s3://midrun/artifacts"), error
    assert "testing-secret-value" not in out + err
    code, runs = run_json(project_dir, "runs", env={"NBPROD_STORE": "s3://midrun/artifacts"})
    assert code == 0 and runs[0]["state"] == "failed" and runs[0]["failure"]["kind"] == "infra"


@pytest.mark.case("PostgreSQL restarted mid-sweep")
@pytest.mark.postgres
def test_postgres_restarted_mid_sweep(project_dir: Path, tmp_path: Path, seen) -> None:  # type: ignore[no-untyped-def]
    require_root("create and restart a PostgreSQL cluster of the test's own")
    require(shutil.which("pg_ctlcluster") is not None, "Debian's PostgreSQL (.ci/run)")
    version = sorted(os.listdir("/usr/lib/postgresql"), key=int)[-1]
    name, port = f"nbprodt{os.getpid()}", free_port()
    subprocess.run(["pg_createcluster", version, name, "-p", str(port), "--start", "--",
                    "--auth-local=trust", "--auth-host=trust"], check=True,
                   capture_output=True)
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        write_notebook(project_dir / "point.ipynb", "i: int = 0",
                       "import time, nbprod\ntime.sleep(1)\nnbprod.record('i', i)")
        env = {**_env(), "NBPROD_REGISTRY": url, "NBPROD_BUSY_TIMEOUT": "30"}
        sweep = subprocess.Popen([sys.executable, "-m", "nbprod", "sweep", "point.ipynb",
                                  "--grid", "i=" + ",".join(map(str, range(12))), "--workers",
                                  "2", "--json"], cwd=project_dir, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(6)
        subprocess.run(["pg_ctlcluster", version, name, "restart"], check=True,
                       capture_output=True)
        out, err = sweep.communicate(timeout=600)
        code, runs = run_json(project_dir, "runs", "--all", env={"NBPROD_REGISTRY": url})
    finally:
        subprocess.run(["pg_dropcluster", version, name, "--stop"], check=False,
                       capture_output=True)
    states = sorted(r["state"] for r in runs)
    seen(f"sweep exit {sweep.returncode}; runs: "
         + ", ".join(f"{s} {states.count(s)}" for s in sorted(set(states))))
    assert code == 0
    assert "running" not in states  # every run ended in a final state
    assert sweep.returncode in (0, 3, 4), err[-2000:]
    report = json.loads(out)
    assert len(report["points"]) == 12
    done = {p["point"] for p in report["points"] if p["state"] == "succeeded"}
    assert done == {r["point"] for r in runs if r["state"] == "succeeded"}
