"""README.md's shell examples, run as a reader would, in order, in a scratch copy of this
repository: a command that exits non-zero (or that the README shows and nbprod no longer has)
fails the test. Only lines marked as needing a second user or a cluster are skipped."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP_MARKS = ("needs a second user", "needs a cluster")

pytestmark = pytest.mark.slow


def tour_commands(readme: str) -> list[str]:
    """The ``$ `` lines of the console blocks from "Your own project" to "Settings"."""
    start, end = readme.index("## Your own project"), readme.index("## Settings")
    commands = []
    for block in re.findall(r"```console\n(.*?)```", readme[start:end], re.S):
        for line in block.splitlines():
            if line.startswith("$ ") and not any(mark in line for mark in SKIP_MARKS):
                commands.append(line[2:].strip())
    return commands


def test_the_tour_lists_the_commands_it_promises() -> None:
    commands = tour_commands((ROOT / "README.md").read_text())
    for expected in ("nbprod init myproject", "nbprod params train", "nbprod show latest --verify",
                     "nbprod promote pipeline 1 --to staging"):
        assert any(c.startswith(expected) for c in commands), expected
    skipped = [line for line in (ROOT / "README.md").read_text().splitlines()
               if line.startswith("$ ") and any(m in line for m in SKIP_MARKS)]
    assert len(skipped) == 3, skipped  # the dask sweep, the approval and the production move


def _scratch_copy(target: Path) -> Path:
    """The repository's tracked files (what a clone has), without its .nbprod/ or venv."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".git").mkdir()  # its own repository root: settings are not looked for above
    return target


def test_every_tour_command_succeeds(tmp_path: Path) -> None:
    copy = _scratch_copy(tmp_path / "repo")
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBPROD_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    assert shutil.which("nbprod", path=env["PATH"]) == str(bin_dir / "nbprod")
    try:
        for command in tour_commands((copy / "README.md").read_text()):
            proc = subprocess.run(["bash", "-c", command], cwd=copy, env=env,
                                  capture_output=True, text=True, timeout=600, check=False)
            assert proc.returncode == 0, (f"README command failed (exit {proc.returncode}): "
                                          f"{command}\n{proc.stdout[-2000:]}\n"
                                          f"{proc.stderr[-2000:]}")
        assert (copy / "myproject" / "notebooks" / "churn.ipynb").is_file()
        assert (copy / "deploy" / "cronjob.yaml").is_file()
        assert (copy / "deploy" / "Dockerfile").is_file()
    finally:
        subprocess.run(["nbprod", "kernels", "stop"], cwd=copy, env=env, capture_output=True,
                       timeout=60, check=False)
