"""Long commands show progress on a terminal: a job run's steps and cells, a sweep's points, a
test's notebooks (run under a pseudo-terminal, as a user at a shell sees them)."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
DATA = Path(__file__).resolve().parents[1] / "data" / "notebooks"


def on_a_terminal(cwd: Path, *args: str, timeout: float = 300) -> tuple[int, str]:
    """Run ``nbprod ARGS`` with stderr on a pseudo-terminal; its exit code and what it drew."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBPROD_")}
    env.update(COLUMNS="120", TERM="xterm")
    proc = subprocess.Popen([sys.executable, "-m", "nbprod", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    drawn = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the command ended and closed the terminal
                break
            if not chunk:
                break
            drawn += chunk
        elif proc.poll() is not None:
            break
    os.close(leader)
    code = proc.wait(timeout=60)
    return code, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn.decode(errors="replace"))


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    for name in ("ok", "glue"):
        shutil.copy(DATA / f"{name}.ipynb", root / f"{name}.ipynb")
    (root / "nbprod.toml").write_text('notebook_dir = "."\n[jobs.pair]\nsteps = ["ok", "glue"]\n')
    return root


def test_a_job_run_shows_each_step_and_its_cells(project_dir: Path) -> None:
    code, drawn = on_a_terminal(project_dir, "job", "run", "pair")
    assert code == 0, drawn
    assert "step 1 of 2 (ok.ipynb)" in drawn and "step 2 of 2 (glue.ipynb)" in drawn, drawn
    assert re.search(r"cell \d+", drawn), drawn


def test_a_sweep_and_a_test_count_what_is_done(project_dir: Path) -> None:
    code, drawn = on_a_terminal(project_dir, "sweep", "ok", "--grid", "x=1,2,3")
    assert code == 0, drawn
    assert re.search(r"sweep.*3/3", drawn), drawn
    code, drawn = on_a_terminal(project_dir, "test", "--no-record")
    assert code == 0, drawn
    assert re.search(r"test.*2/2", drawn), drawn
