"""README.md's shell examples, run as a reader would, in order, in a scratch copy of this
repository: a command that exits non-zero (or that the README shows and nbprod no longer has)
fails the test. A line marked as needing a second user runs as a second operating-system user
(made for the test; that needs root, which CI has); only lines needing a cluster are skipped."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SECOND_USER = "needs a second user"
SKIP_MARKS = ("needs a cluster",)
REVIEWER = "nbprod-reviewer"  # the second user: approves what root built
# A server the reader stops with Ctrl-C: started, checked to answer on the URL it prints, stopped.
LONG_RUNNING = "runs until Ctrl-C"

pytestmark = pytest.mark.slow


def tour_commands(readme: str) -> list[str]:
    """The ``$ `` lines of the console blocks from "Your own project" to "Settings" (but the
    ones needing a cluster)."""
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
    assert len(skipped) == 1, skipped  # the dask sweep
    assert [c for c in commands if SECOND_USER in c] == [
        "nbprod approve pipeline 1                          # needs a second user: not the "
        "builder"]
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


def _second_user(env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The command prefix and environment that run a line as the second user (root only)."""
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.fail("the README tour approves as a second operating-system user, which needs "
                    "root to create (CI runs as root)")
    if subprocess.run(["id", REVIEWER], capture_output=True, check=False).returncode != 0:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", REVIEWER],
                       check=True, capture_output=True)
    home = Path(tempfile.mkdtemp(prefix="nbprod-reviewer-"))
    shutil.chown(home, REVIEWER)
    theirs = {k: v for k, v in env.items() if k not in ("XDG_RUNTIME_DIR", "JUPYTER_CONFIG_DIR")}
    theirs.update(HOME=str(home), USER=REVIEWER, LOGNAME=REVIEWER)
    return ["runuser", "-u", REVIEWER, "--"], theirs


@contextlib.contextmanager
def _reachable_interpreter() -> Iterator[None]:
    """Let other users reach this interpreter (a pyenv Python under /root, say) and the
    virtualenv it runs in (a clone in a private temporary folder, say): add o+x to each folder
    above either that lacks it, for the test's duration."""
    changed = []
    folders = {*Path(os.path.realpath(sys.executable)).parents,
               *Path(os.path.abspath(sys.executable)).parents, *ROOT.parents}
    for folder in sorted(folders):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)
            changed.append((folder, mode))
    try:
        yield
    finally:
        for folder, mode in changed:
            folder.chmod(stat.S_IMODE(mode))


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
    # Outside pytest's private temporary folder: the second user must reach the project.
    shared = Path(tempfile.mkdtemp(prefix="nbprod-readme-"))
    shared.chmod(0o755)
    copy = _scratch_copy(shared / "repo")
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBPROD_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    assert shutil.which("nbprod", path=env["PATH"]) == str(bin_dir / "nbprod")
    try:
        for command in tour_commands((copy / "README.md").read_text()):
            if LONG_RUNNING in command:
                _serve_and_stop(command, copy, env, tmp_path / "jupyter-config")
                continue
            prefix, as_env = ([], env) if SECOND_USER not in command else _second_user(env)
            if prefix:  # the second user reads the project and writes to its registry
                subprocess.run(["chmod", "-R", "a+rwX", str(copy)], check=True)
            with _reachable_interpreter() if prefix else contextlib.nullcontext():
                proc = subprocess.run([*prefix, "bash", "-c", command], cwd=copy, env=as_env,
                                      capture_output=True, text=True, timeout=600, check=False)
            assert proc.returncode == 0, (f"README command failed (exit {proc.returncode}): "
                                          f"{command}\n{proc.stdout[-2000:]}\n"
                                          f"{proc.stderr[-2000:]}")
        assert (copy / "myproject" / "notebooks" / "churn.ipynb").is_file()
        assert (copy / "deploy" / "cronjob.yaml").is_file()
        assert (copy / "deploy" / "Dockerfile").is_file()
        # the monitoring lines: the shifted scoring run's alert reached the local webhook
        alert = (copy / "webhook.log").read_text()
        assert "score version 1 (production): data drift in 2 columns" in alert, alert
        assert "mean_radius" in alert and "mean_texture" in alert
        audit = subprocess.run(["nbprod", "audit", "pipeline", "--json"], cwd=copy, env=env,
                               capture_output=True, text=True, timeout=120, check=True)
        approvals = [row for row in json.loads(audit.stdout) if row.get("action") == "approve"]
        assert approvals and all(row.get("user") == REVIEWER for row in approvals), approvals
    finally:
        subprocess.run(["nbprod", "kernels", "stop"], cwd=copy, env=env, capture_output=True,
                       timeout=60, check=False)
        shutil.rmtree(shared, ignore_errors=True)
