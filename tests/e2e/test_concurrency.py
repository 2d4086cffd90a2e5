"""Many runners on one SQLite registry, and runners that die: nothing lost, nothing partial."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import run_json

pytestmark = pytest.mark.slow


def test_eight_concurrent_runs_on_one_fresh_sqlite_registry(project_dir: Path) -> None:
    # A fresh registry: the eight processes also race to create and migrate it.
    procs = [subprocess.Popen([sys.executable, "-m", "nbprod", "run", "ok.ipynb", "-p", "x",
                               str(i), "--json"], cwd=project_dir, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(8)]
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read())  # type: ignore[union-attr]
               for p in procs]
    for code, out, err in results:
        assert code == 0, err
        assert json.loads(out)["state"] == "succeeded"
    code, runs = run_json(project_dir, "runs", "--all")
    assert code == 0
    assert len(runs) == 8
    assert sorted(r["parameters"]["x"] for r in runs) == list(range(8))
    assert sorted(r["values"]["x2"] for r in runs) == [2 * i for i in range(8)]
    assert all(r["state"] == "succeeded" for r in runs)


def _wait_for_state(project_dir: Path, state: str, timeout: float = 60) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code, runs = run_json(project_dir, "runs", "--all")
        if code == 0 and runs and runs[0]["state"] == state:
            return runs[0]  # type: ignore[no-any-return]
        time.sleep(0.3)
    raise AssertionError(f"no run reached {state}: {runs}")


def _pid_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().rsplit(") ", 1)[-1][:1] in "ZX":
            return True
        time.sleep(0.1)
    return False


def test_killed_runner_leaves_a_lost_run_and_no_kernel(project_dir: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "kernel.pid"
    notebook = json.loads((project_dir / "hangs.ipynb").read_text())
    notebook["cells"][2]["source"] = (
        "import os, time\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "time.sleep(600)")
    (project_dir / "hangs_pid.ipynb").write_text(json.dumps(notebook))
    runner = subprocess.Popen([sys.executable, "-m", "nbprod", "run", "hangs_pid.ipynb"],
                              cwd=project_dir, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pid_file.exists(), "the kernel never started"
    assert _wait_for_state(project_dir, "running")["notebook"] == "hangs_pid.ipynb"
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    lost = _wait_for_state(project_dir, "lost")
    assert lost["failure"]["kind"] == "lost"
    assert _pid_gone(int(pid_file.read_text()), timeout=15), "kernel outlived its runner"


@pytest.mark.parametrize("delay", [0.6, 1.0, 1.4, 1.8, 2.2])
def test_runner_killed_at_any_moment_never_leaves_a_succeeded_run_with_bad_files(
        project_dir: Path, delay: float) -> None:
    runner = subprocess.Popen([sys.executable, "-m", "nbprod", "run", "ok.ipynb"],
                              cwd=project_dir, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    time.sleep(delay)
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    code, runs = run_json(project_dir, "runs", "--all")
    assert code == 0
    for record in runs:
        assert record["state"] in ("succeeded", "lost"), record
        if record["state"] == "succeeded":
            for artifact in record["artifacts"]:
                data = Path(artifact["path"]).read_bytes()
                assert hashlib.sha256(data).hexdigest() == artifact["sha256"]
    # no temporary file is left looking like an artifact
    store = project_dir / ".nbprod" / "artifacts"
    assert not [p for p in store.rglob("*") if p.is_file() and not p.name.startswith(".")
                and p.name.endswith(".tmp")]
