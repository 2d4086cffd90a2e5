"""A run whose runner is killed keeps the cells that finished (issue 9 §5): the output
notebook is saved during the run, and the lost run's record links it."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nbprod.api import Project, RunRequest, run_notebook
from nbprod.records import RunRecord

from ..conftest import run_json, write_notebook

pytestmark = pytest.mark.slow


def test_a_killed_runner_leaves_its_finished_cells(project_dir: Path) -> None:
    write_notebook(project_dir / "long.ipynb", "n: int = 1",
                   "print('first cell finished', n)",
                   "import time\ntime.sleep(300)",
                   "print('never reached')")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBPROD_")}
    runner = subprocess.Popen([sys.executable, "-m", "nbprod", "run", "long.ipynb", "-p", "n",
                               "7"], cwd=project_dir, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        saved = None
        while saved is None:
            assert time.monotonic() < deadline, "the running notebook was never saved"
            assert runner.poll() is None
            found = list((project_dir / ".nbprod" / "tmp").glob("*/notebook.partial.ipynb"))
            if found and "first cell finished" in found[0].read_text():
                saved = found[0]
            time.sleep(0.3)
        run_id = saved.parent.name
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    code, record = run_json(project_dir, "show", run_id)
    assert code == 0 and record["state"] == "lost", record
    notebook = next(a for a in record["artifacts"] if a["name"] == "notebook.ipynb")
    cells = json.loads(Path(notebook["path"]).read_text())["cells"]
    texts = ["".join(o.get("text", "")) for c in cells for o in c.get("outputs", [])]
    assert "first cell finished 7\n" in texts and "never reached\n" not in texts
    assert not saved.parent.exists()  # moved into the store, scratch removed
    assert run_json(project_dir, "show", run_id, "--verify")[0] == 0


def test_a_run_declared_lost_while_it_runs_keeps_its_files(project: Project) -> None:
    """Another process declared the run lost (its heartbeat looked stale) while it ran: the
    run stays lost, and the files its runner stored after all are attached to it."""
    path = write_notebook(project.root / "slow.ipynb", "n: int = 1",
                          "import time\ntime.sleep(2)", "print('finished', n)")
    done: list[RunRecord] = []
    runner = threading.Thread(target=lambda: done.append(
        run_notebook(project, RunRequest(str(path)))))
    runner.start()
    deadline = time.monotonic() + 60
    while not project.registry.list_runs(state="running"):
        assert time.monotonic() < deadline and runner.is_alive(), "the run never started"
        time.sleep(0.05)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert project.registry.reap_lost(lambda _runner: False, later)  # as another host would
    runner.join(timeout=120)
    record = done[0]
    assert record.state == "lost" and record.failure is not None
    names = {a.name for a in record.artifacts}
    assert {"notebook.ipynb", "report.html", "record.json"} <= names, names
    stored = json.loads(project.store.read_bytes(f"runs/{record.run_id}/notebook.ipynb"))
    texts = ["".join(o.get("text", "")) for c in stored["cells"] for o in c.get("outputs", [])]
    assert "finished 1\n" in texts
    assert run_json(project.root, "show", record.run_id, "--verify")[0] == 0
