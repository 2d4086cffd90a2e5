"""A run whose runner is killed keeps the cells that finished (issue 9 §5): the output
notebook is saved during the run, and the lost run's record links it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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
