"""The ``nbprod`` console entry point: hand the command to a warm nbprod, else run it here.

Importing nbprod's library (papermill, nbclient, SQLAlchemy, nbconvert's templates) costs
most of a second in every process. A warm nbprod (:mod:`nbprod.cli.warm`) has paid it once:
this launcher connects to it over a per-user Unix socket, passes the terminal's file
descriptors, the arguments, the working directory and the environment, and the warm process
forks a child that runs the command exactly as this process would, writing straight to the
terminal. Ctrl-C and SIGTERM are forwarded to that child; if this process dies, the child dies
with it. When no warm nbprod is running (or ``NBPROD_WARM=0``), the command runs here and one
is started in the background for the next command.

This module imports only the standard library: it is what every ``nbprod`` command pays.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

from ..rundir import UnsafeRuntimeDir, same_user
from ..rundir import runtime_dir as runtime_dir

try:  # CPython's own SHA-256: hashlib would load OpenSSL first (a twentieth of a command)
    from _sha256 import sha256 as _sha256  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - another interpreter
    from hashlib import sha256 as _sha256

_SKIP = {"--help", "-h", "--version"}
# Always run here: "kernels" manages the warm processes themselves; "serve" becomes the
# server process (it execs), which must not be a child of the warm nbprod.
_DAEMON_COMMANDS = {"kernels", "serve"}


def main() -> None:
    argv = sys.argv[1:]
    if _wanted(argv):
        code = _try_warm(argv)
        if code is not None:
            # The child did the work and wrote to the terminal itself; this process holds
            # nothing to clean up, and the interpreter's orderly shutdown (every module torn
            # down) would add a fifth to the cost of a quick command.
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(code)
    from .main import main as run_here

    run_here()


def _wanted(argv: list[str]) -> bool:
    if os.environ.get("NBPROD_WARM", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if not argv or _SKIP & set(argv) or argv[0] in _DAEMON_COMMANDS:
        return False
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds")


def warm_key() -> str:
    """Changes when nbprod's code, the interpreter or the installed distributions change."""
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    parts = [sys.executable, sys.version]
    for folder, dirs, files in os.walk(package):  # os.walk: a third of rglob's time
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):
                    parts.append(f"{path}:{os.stat(path).st_mtime_ns}")
    for entry in sys.path:
        if "site-packages" in entry or "dist-packages" in entry:
            with contextlib.suppress(OSError):
                parts.append(f"{entry}:{os.stat(entry).st_mtime_ns}")
    digest: str = _sha256("\n".join(parts).encode()).hexdigest()
    return digest[:16]


def socket_path(key: str) -> Path:
    return runtime_dir() / f"cli-{key}.sock"


def _try_warm(argv: list[str]) -> int | None:
    """The command's exit code from a warm nbprod, or None to run it here."""
    key = warm_key()
    try:
        path = socket_path(key)
    except UnsafeRuntimeDir as exc:
        print(f"nbprod: note: not using a warm nbprod: {exc.one_line()}", file=sys.stderr)
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
    except OSError:
        conn.close()
        _start_warm(key)
        return None
    if not same_user(conn):  # not ours, though in our private folder: never send to it
        conn.close()
        print(f"nbprod: note: not using a warm nbprod: {path} is served by another user",
              file=sys.stderr)
        return None
    try:
        umask = os.umask(0)
        os.umask(umask)
        header = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ),
                             "umask": umask}).encode() + b"\n"
        socket.send_fds(conn, [header], [0, 1, 2])
        reader = conn.makefile("rb")
        started = json.loads(reader.readline() or b"{}")
        child = int(started.get("pid", 0))
        if not child:
            return None
    except (OSError, ValueError):
        conn.close()
        return None
    _forward_signals(child)
    try:
        line = reader.readline()
    except KeyboardInterrupt:
        line = b""
    finally:
        conn.close()
    if not line:
        return 130 if _interrupted else 70  # the child died without saying how it ended
    return int(json.loads(line).get("exit", 70))


_interrupted = False


def _forward_signals(child: int) -> None:
    def forward(signum: int, _frame: object) -> None:
        global _interrupted
        _interrupted = signum == signal.SIGINT or _interrupted
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)


def _start_warm(key: str) -> None:
    """Start a warm nbprod in the background (at most one per key)."""
    lock = runtime_dir() / f"cli-{key}.starting"
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        try:
            if lock.stat().st_mtime > time.time() - 60:
                return  # another command is starting it
        except OSError:
            return
        lock.unlink(missing_ok=True)
        return
    os.close(fd)
    import subprocess  # here: only the command that starts a warm nbprod needs it

    log = (runtime_dir() / f"cli-{key}.log").open("ab")
    try:
        subprocess.Popen([sys.executable, "-m", "nbprod.cli.warm", "--key", key],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd="/",
                         start_new_session=True, close_fds=True)
    except OSError:
        lock.unlink(missing_ok=True)
    finally:
        log.close()
