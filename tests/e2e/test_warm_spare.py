"""The warm nbprod forks the next command's process ahead (nbprod/cli/spare.py): a command is
run by that spare, with the caller's arguments, folder and environment, and a new spare is
forked once no command runs. Real console script, real warm process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

BIN = Path(sys.executable).parent
_T = TypeVar("_T")
pytestmark = pytest.mark.slow


def _env(base: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBPROD_")}
    return {**env, "XDG_RUNTIME_DIR": str(base), "NBPROD_WARM": "1", **extra}


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def _ended(pid: int) -> bool:
    """Gone, or a zombie its parent has not reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _wait(what: str, check: Callable[[], _T], seconds: float = 90.0) -> _T:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_command_is_run_by_the_spare_forked_ahead(runtime_base: Path,
                                                    project_dir: Path) -> None:
    first = subprocess.run([str(BIN / "nbprod"), "runs", "--json"], cwd=project_dir,
                           env=_env(runtime_base), capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr  # ran here; it started the warm nbprod
    folder = runtime_base / f"nbprod-{os.getuid()}"
    info = _wait("the warm nbprod", lambda: list(folder.glob("cli-*.json")))
    warm = json.loads(info[0].read_text())["pid"]
    spare = _wait("its spare", lambda: _children(warm))
    [spare_pid] = spare
    time.sleep(2.0)  # its rehearsal takes ~0.1 s: it is ready

    other = project_dir / "elsewhere.db"
    proc = subprocess.run([str(BIN / "nbprod"), "runs", "--json"], cwd=project_dir,
                          env=_env(runtime_base, NBPROD_REGISTRY=f"sqlite:///{other}"),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []  # that registry is new: no runs
    assert other.is_file()  # the caller's environment, not the spare's
    # the spare ran it and is gone; a new one was forked once no command ran
    _wait("the spare to end", lambda: not Path(f"/proc/{spare_pid}").exists(), 30)
    renewed = _wait("a new spare", lambda: _children(warm) - {spare_pid}, 30)
    assert renewed and spare_pid not in renewed


def test_an_idle_warm_nbprod_exits_with_its_spare(runtime_base: Path, project_dir: Path) -> None:
    proc = subprocess.run([str(BIN / "nbprod"), "runs", "--json"], cwd=project_dir,
                          env=_env(runtime_base, NBPROD_WARM_IDLE="3"), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    folder = runtime_base / f"nbprod-{os.getuid()}"
    info = _wait("the warm nbprod", lambda: list(folder.glob("cli-*.json")))
    warm = json.loads(info[0].read_text())["pid"]
    spare = _wait("its spare", lambda: _children(warm))
    _wait("the warm nbprod to exit when idle", lambda: _ended(warm), 60)
    _wait("the spare to exit with it", lambda: all(_ended(pid) for pid in spare), 30)
    assert not list(folder.glob("cli-*.json"))
