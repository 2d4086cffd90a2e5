"""README.md's shell examples, run as a reader would, in order, in a scratch copy of this
repository: a command that exits non-zero (or that the README shows and nbprod no longer has)
fails the test. Only lines marked as needing a second user or a cluster are skipped."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SKIP_MARKS = ("needs a second user", "needs a cluster")
# A server the reader stops with Ctrl-C: started, checked to answer on the URL it prints, stopped.
LONG_RUNNING = "runs until Ctrl-C"

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
    assert sum(LONG_RUNNING in c for c in commands) == 2  # nbprod serve, jupyter lab


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_and_stop(command: str, cwd: Path, env: dict[str, str], config: Path) -> None:
    """Start a server command as the README shows it, wait for the URL it prints, check that
    nbprod's pages answer there (behind the login), stop it as Ctrl-C does."""
    port = _free_port()
    config.mkdir(exist_ok=True)
    # What a reader's own Jupyter config would say: this port, no browser, root allowed (CI).
    (config / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {
        "port": port, "port_retries": 0, "open_browser": False, "allow_root": True}}))
    log = cwd / f".server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["bash", "-c", f"exec {command.split('#')[0]}"], cwd=cwd,
                                env={**env, "JUPYTER_CONFIG_DIR": str(config)}, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        url = None
        deadline = time.monotonic() + 90
        while url is None and time.monotonic() < deadline:
            assert proc.poll() is None, f"{command} exited:\n{log.read_text()[-3000:]}"
            found = re.search(rf"http://127\.0\.0\.1:{port}/\S*token=\w+", log.read_text())
            url = found.group(0) if found else None
            time.sleep(0.3)
        assert url, f"{command} printed no URL:\n{log.read_text()[-3000:]}"
        token = url.rsplit("token=", 1)[1]
        base = f"http://127.0.0.1:{port}"
        login = requests.get(f"{base}/nbprod/", allow_redirects=False, timeout=30)
        assert login.status_code == 302 and "/login" in login.headers["Location"], login
        page = requests.get(f"{base}/nbprod/", headers={"Authorization": f"token {token}"},
                            timeout=30)
        assert page.status_code == 200 and "nbprod" in page.text
    finally:
        proc.send_signal(2)  # Ctrl-C
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


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
            if LONG_RUNNING in command:
                _serve_and_stop(command, copy, env, tmp_path / "jupyter-config")
                continue
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
