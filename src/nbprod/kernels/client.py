"""Find, start, talk to and stop template processes.

Templates live in a per-user runtime folder (``$XDG_RUNTIME_DIR/nbprod`` or
``/tmp/nbprod-UID``): a Unix socket and an info file per template. A template is named by a key
hashing what it preloaded and everything that would make it stale: the interpreter, the
installed distributions, the preloaded modules' files, nbprod's own kernel code and the
environment variables libraries read when imported (``OMP_*``, ``MPLBACKEND``, ``LANG``, ...). A changed
key means a new template; the stale one with the same modules is stopped.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InfraError
from .forkserver import owned
from .preload import module_files

START_TIMEOUT = 60.0
IMPORT_TIME_ENV = ("OMP_", "MKL_", "OPENBLAS_", "GOTO_", "BLIS_", "VECLIB_", "KMP_", "NUMEXPR_",
                   "NUMBA_", "MPLBACKEND", "MPLCONFIGDIR", "PYTHON", "LD_", "LANG", "LC_", "TZ",
                   "CUDA_", "HF_", "JOBLIB_", "SKLEARN_", "POLARS_", "ARROW_")


def runtime_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    folder = Path(base) / f"nbprod-{os.getuid()}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def template_key(preload: Sequence[str]) -> str:
    from ..about import __version__
    from ..lineage import environment_key

    parts = [sys.executable, sys.version, __version__, environment_key(), *sorted(preload)]
    # Read by libraries when they are imported (thread pools, backends, locale), so frozen in
    # the template: a different value needs a template started with it.
    parts += sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith(IMPORT_TIME_ENV))
    for path in [*module_files(preload), __file__.replace("client.py", "forkserver.py")]:
        try:
            parts.append(f"{path}:{os.stat(path).st_mtime_ns}")
        except OSError:
            parts.append(path)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Template:
    """A template process, running or not, for one preload set."""

    key: str
    preload: tuple[str, ...]

    @property
    def socket_path(self) -> Path:
        return runtime_dir() / f"k-{self.key}.sock"

    @property
    def info_path(self) -> Path:
        return runtime_dir() / f"k-{self.key}.json"

    @classmethod
    def for_modules(cls, preload: Sequence[str]) -> Template:
        modules = tuple(sorted(set(preload)))
        return cls(template_key(modules), modules)

    def request(self, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(self.socket_path))
            conn.sendall((json.dumps(message) + "\n").encode())
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
        reply: dict[str, Any] = json.loads(data or b"{}")
        if not reply.get("ok"):
            raise InfraError(f"kernel template {self.key}: {reply.get('error', 'no reply')}")
        return reply

    def alive(self) -> bool:
        try:
            self.request({"op": "ping"}, timeout=2.0)
        except (OSError, ValueError, InfraError):
            return False
        return True

    def ensure(self, *, wait: bool, idle: float = 900.0) -> bool:
        """Whether the template is ready; start it if not (and wait for it if ``wait``)."""
        if self.alive():
            return True
        with _lock(runtime_dir() / f"k-{self.key}.lock"):
            if not self.alive():
                self._start(idle)
        if not wait:
            return False
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.alive():
                return True
            time.sleep(0.02)
        raise InfraError(f"kernel template {self.key} did not start within {START_TIMEOUT:g} s",
                         hint=f"see {runtime_dir() / f'k-{self.key}.log'}")

    def _start(self, idle: float) -> None:
        if owned(self.socket_path):
            return  # starting (importing its modules) in another process's call
        _stop_stale(self.preload, keep=self.key)
        log = (runtime_dir() / f"k-{self.key}.log").open("ab")
        try:
            subprocess.Popen(
                [sys.executable, "-m", "nbprod.kernels.forkserver", "--socket",
                 str(self.socket_path), "--info", str(self.info_path), "--key", self.key,
                 "--idle", str(idle), "--preload", *self.preload],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd="/",
                start_new_session=True, close_fds=True)
        finally:
            log.close()

    def fork(self, *, argv: Sequence[str], cwd: str, env: dict[str, str],
             log: str | None) -> int:
        reply = self.request({"op": "fork", "argv": list(argv), "cwd": cwd, "env": env,
                              "caller": os.getpid(), "log": log})
        return int(reply["pid"])

    def status(self, pid: int) -> tuple[bool, int | None]:
        """(still running, exit code if it ended and the template reaped it)."""
        reply = self.request({"op": "status", "pid": pid})
        return bool(reply.get("running")), reply.get("exit")

    def stop(self) -> None:
        with suppress(OSError, ValueError, InfraError):
            self.request({"op": "stop"}, timeout=2.0)
        deadline = time.monotonic() + 2.0
        while owned(self.socket_path):  # the template removes its own files as it exits
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        self.socket_path.unlink(missing_ok=True)
        self.info_path.unlink(missing_ok=True)


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def running_templates() -> list[dict[str, Any]]:
    """Info of every template that answers a ping (stale files are removed)."""
    found = []
    for info in sorted(runtime_dir().glob("k-*.json")):
        try:
            data = json.loads(info.read_text())
        except (OSError, ValueError):
            continue
        template = Template(str(data.get("key")), tuple(data.get("preload", [])))
        try:
            ping = template.request({"op": "ping"}, timeout=2.0)
        except (OSError, ValueError, InfraError):
            if not owned(template.socket_path):  # its process is gone: remove what it left
                info.unlink(missing_ok=True)
                template.socket_path.unlink(missing_ok=True)
            continue
        found.append({**data, "kernels": ping.get("kernels", 0)})
    return found


def stop_templates(key: str | None = None) -> int:
    stopped = 0
    for data in running_templates():
        if key is None or data["key"] == key:
            Template(data["key"], tuple(data["preload"])).stop()
            stopped += 1
    return stopped


def _stop_stale(preload: Sequence[str], keep: str) -> None:
    """Stop templates of the same modules built from an older environment or older code."""
    from .preload import BASE

    wanted = set(preload)
    for data in running_templates():
        have = set(data.get("preload", [])) - set(BASE) - set(data.get("failed", {}))
        if data["key"] != keep and have <= wanted and wanted <= have | set(data.get("failed",
                                                                                   {})):
            Template(data["key"], tuple(data["preload"])).stop()
