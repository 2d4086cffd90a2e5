"""The warm launcher sends a command's environment and terminal only to its own user.

Issue 9 §1: the runtime folder could be created first by another local user, and the warm
nbprod accepted any peer. These run the real console script and the real warm process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import require_root

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def _launch(cwd: Path, base: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBPROD_")}
    env.update(XDG_RUNTIME_DIR=str(base), NBPROD_WARM="1", NBPROD_SECRET_TOKEN="s3cr3t-9f2")
    return subprocess.run([str(BIN / "nbprod"), *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=120, check=False)


@pytest.mark.parametrize("hostile", ["open mode", "symlink"])
def test_a_folder_made_by_someone_else_is_not_used(project_dir: Path, runtime_base: Path,
                                                   hostile: str) -> None:
    folder = runtime_base / f"nbprod-{os.getuid()}"
    trap = runtime_base / "trap"
    trap.mkdir(mode=0o700)
    if hostile == "open mode":
        folder.mkdir()
        folder.chmod(0o777)
        trap = folder
    else:
        folder.symlink_to(trap)
    proc = _launch(project_dir, runtime_base, "runs", "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("not using a warm nbprod") == 1, proc.stderr
    assert str(folder) in proc.stderr
    time.sleep(1.0)  # a warm process started by mistake would have bound its socket by now
    assert list(trap.iterdir()) == []  # no socket, lock or log was made there


def test_the_warm_nbprod_refuses_another_user(runtime_base: Path, project_dir: Path) -> None:
    require_root("connect as another user (uid 65534) to the warm nbprod's socket")
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime_base)}
    key = "peercredtest0001"
    server = subprocess.Popen([sys.executable, "-m", "nbprod.cli.warm", "--key", key,
                               "--idle", "120"], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    folder = runtime_base / f"nbprod-{os.getuid()}"
    sock = folder / f"cli-{key}.sock"
    try:
        deadline = time.monotonic() + 90
        while not (folder / f"cli-{key}.json").exists():
            assert time.monotonic() < deadline and server.poll() is None, "warm did not start"
            time.sleep(0.1)
        # Open the way to the socket, as a careless or hostile setup might have.
        runtime_base.chmod(0o711)
        folder.chmod(0o711)
        sock.chmod(0o777)
        marker = project_dir / "ran-as-nobody"
        client = (
            "import json, socket, sys\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            f"s.connect({str(sock)!r})\n"
            f"header = json.dumps({{'argv': ['runs'], 'cwd': {str(project_dir)!r},"
            f" 'env': {{'NBPROD_WARM': '0'}}, 'umask': 18}}).encode() + b'\\n'\n"
            "try:\n"
            "    socket.send_fds(s, [header], [0, 1, 2])\n"
            "    s.settimeout(20)\n"
            "    reply = s.makefile('rb').readline().decode()\n"
            "except OSError:\n"
            "    reply = ''\n"
            "print(json.dumps({'reply': reply}))\n")
        proc = subprocess.run(["/usr/bin/python3", "-c", client], user=65534, group=65534,
                              capture_output=True, text=True, timeout=60, check=False,
                              cwd="/")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == {"reply": ""}  # closed unread: no child forked
        assert not marker.exists()
        assert server.poll() is None  # and it still serves its own user
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def test_a_kernel_template_refuses_another_user(runtime_base: Path, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    require_root("connect as another user (uid 65534) to a kernel template's socket")
    from nbprod.kernels.client import Template, stop_templates

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime_base))
    template = Template.for_modules([])
    sock = template.socket_path
    try:
        assert template.ensure(wait=True)
        runtime_base.chmod(0o711)
        sock.parent.chmod(0o711)
        sock.chmod(0o777)
        request = json.dumps({"op": "ping"})
        client = (
            "import socket\n"
            "s = socket.socket(socket.AF_UNIX)\n"
            f"s.connect({str(sock)!r})\n"
            "try:\n"
            f"    s.sendall({request!r}.encode() + b'\\n')\n"
            "    s.settimeout(20)\n"
            "    print(repr(s.makefile('rb').readline()))\n"
            "except OSError:\n"
            "    print(repr(b''))\n")
        proc = subprocess.run(["/usr/bin/python3", "-c", client], user=65534, group=65534,
                              capture_output=True, text=True, timeout=60, check=False, cwd="/")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "b''"  # refused unread: not even a ping answered
        sock.parent.chmod(0o700)
        assert template.alive()  # its own user is still served
    finally:
        sock.parent.chmod(0o700)
        stop_templates()
