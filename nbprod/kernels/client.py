"""Find, start, talk to and stop template processes.

Templates live in a per-user runtime folder (``$XDG_RUNTIME_DIR/nbprod-UID`` or
``/tmp/nbprod-UID``, verified private by :mod:`nbprod.rundir`): a Unix socket and an info
file per template; a template serves only its own user (``SO_PEERCRED``). A template is
named by a key hashing what it preloaded and everything that would make it stale: the
interpreter, the installed distributions, the preloaded modules' files, nbprod's own kernel
code and the kernel environment's variables that are read once, when the interpreter starts
or a library is imported (``PYTHONPATH``, ``PYTHONHASHSEED``, ``LANG``/``LC_*``, ``TZ``, ``OMP_*``,
``MPLBACKEND``, ...). The template is started with those variables, so a kernel forked from it
sees what a kernel spawned with that environment would. A changed key means a new template;
a stale one (same modules and startup environment, older code or packages) is stopped.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InfraError
from ..rundir import runtime_dir as runtime_dir
from ..rundir import same_user
from . import forkserver
from .cap import Limits
from .forkserver import owned, read_line
from .preload import module_files

START_TIMEOUT = 60.0
IMPORT_TIME_ENV = ("OMP_", "MKL_", "OPENBLAS_", "GOTO_", "BLIS_", "VECLIB_", "KMP_", "NUMEXPR_",
                   "NUMBA_", "MPLBACKEND", "MPLCONFIGDIR", "PYTHON", "LD_", "LANG", "LC_", "TZ",
                   "CUDA_", "HF_", "JOBLIB_", "SKLEARN_", "POLARS_", "ARROW_")


def startup_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables of a kernel environment that a template must be started with."""
    source = os.environ if env is None else env
    return {k: source[k] for k in sorted(source) if k.startswith(IMPORT_TIME_ENV)}


def env_digest(env: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(startup_env(env)).encode()).hexdigest()[:16]


def template_key(preload: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """The key of a template preloading ``preload`` for kernels with environment ``env``."""
    from ..about import __version__
    from ..lineage import environment_key

    parts = [sys.executable, sys.version, __version__, environment_key(), *sorted(preload)]
    # Read when the interpreter starts or a library is imported (sys.path, hash seed, UTF-8
    # mode, thread pools, backends, locale), so frozen in the template: a different value
    # needs a template started with it.
    parts += [f"{k}={v}" for k, v in startup_env(env).items()]
    for path in [*module_files(preload), *_template_code()]:
        try:
            parts.append(f"{path}:{os.stat(path).st_mtime_ns}")
        except OSError:
            parts.append(path)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _template_code() -> list[str]:
    """The files of nbprod's own code that a template runs (its key follows them)."""
    from . import child, learn, preload, spare

    return [forkserver.__file__, child.__file__, spare.__file__, preload.__file__,
            learn.__file__]


@dataclass(frozen=True)
class Template:
    """A template process, running or not, for one preload set."""

    key: str
    preload: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()  # the startup environment (see startup_env)

    @property
    def socket_path(self) -> Path:
        return runtime_dir() / f"k-{self.key}.sock"

    @property
    def info_path(self) -> Path:
        return runtime_dir() / f"k-{self.key}.json"

    @classmethod
    def for_modules(cls, preload: Sequence[str],
                    env: Mapping[str, str] | None = None) -> Template:
        """The template for kernels with environment ``env`` (default: this process's)."""
        modules = tuple(sorted(set(preload)))
        startup = startup_env(env)
        return cls(template_key(modules, startup), modules, tuple(startup.items()))

    def request(self, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(self.socket_path))
            if not same_user(conn):
                raise InfraError(f"kernel template {self.key}: its socket is served by "
                                 "another user; not used")
            conn.sendall((json.dumps(message) + "\n").encode())
            data = read_line(conn)
        reply: dict[str, Any] = json.loads(data or "{}")
        if not reply.get("ok"):
            raise InfraError(f"kernel template {self.key}: {reply.get('error', 'no reply')}")
        return reply

    def alive(self) -> bool:
        try:
            self.request({"op": "ping"}, timeout=2.0)
        except (OSError, ValueError, InfraError):
            return False
        return True

    def ensure(self, *, wait: bool, idle: float = 900.0, limits: Limits | None = None) -> bool:
        """Whether the template is ready; start it if not (and wait for it if ``wait``).
        A template started here holds the live templates to ``limits`` once it is ready."""
        if self.alive():
            return True
        with _lock(runtime_dir() / f"k-{self.key}.lock"):
            if not self.alive():
                self._start(idle, limits or Limits())
        if not wait:
            return False
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.alive():
                return True
            time.sleep(0.02)
        raise InfraError(f"kernel template {self.key} did not start within {START_TIMEOUT:g} s",
                         hint=f"see {runtime_dir() / f'k-{self.key}.log'}")

    def _start(self, idle: float, limits: Limits) -> None:
        if owned(self.socket_path):
            return  # starting (importing its modules) in another process's call
        digest = env_digest(dict(self.env))
        _stop_stale(self.preload, digest, keep=self.key)
        env = {k: v for k, v in os.environ.items() if not k.startswith(IMPORT_TIME_ENV)}
        log = (runtime_dir() / f"k-{self.key}.log").open("ab")
        try:
            subprocess.Popen(
                [sys.executable, "-m", "nbprod.kernels.forkserver", "--socket",
                 str(self.socket_path), "--info", str(self.info_path), "--key", self.key,
                 "--env-digest", digest, "--idle", str(idle),
                 "--max-templates", str(limits.templates), "--max-memory", str(limits.memory),
                 "--preload", *self.preload],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd="/",
                env={**env, **dict(self.env)}, start_new_session=True, close_fds=True)
        finally:
            log.close()

    def fork(self, *, argv: Sequence[str], cwd: str, env: dict[str, str],
             log: str | None, transport: str = "tcp"
             ) -> tuple[int, dict[str, Any] | None]:
        """A kernel for these arguments: its pid, and the connection information of the
        spare that serves it (None: it uses the connection file in ``argv``)."""
        reply = self.request({"op": "fork", "argv": list(argv), "cwd": cwd, "env": env,
                              "caller": os.getpid(), "log": log, "umask": _umask(),
                              "transport": transport})
        connection = reply.get("connection")
        return int(reply["pid"]), connection if isinstance(connection, dict) else None

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


def running_templates(skip: str | None = None) -> list[dict[str, Any]]:
    """Info of every template that answers a ping (stale files are removed), but ``skip``'s;
    with its live kernels, its last fork (``used``) and its spare kernel's pid."""
    found = []
    for info in sorted(runtime_dir().glob("k-*.json")):
        if skip is not None and info.name == f"k-{skip}.json":
            continue
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
        found.append({**data, "kernels": ping.get("kernels", 0), "used": ping.get("used"),
                      "spare": ping.get("spare"), "learned": ping.get("learned", 0)})
    return found


def stop_templates(key: str | None = None) -> int:
    stopped = 0
    for data in running_templates():
        if key is None or data["key"] == key:
            Template(data["key"], tuple(data["preload"])).stop()
            stopped += 1
    return stopped


def _stop_stale(preload: Sequence[str], digest: str, keep: str) -> None:
    """Stop templates of the same modules and startup environment, built from older code.

    A template of another startup environment (another ``TZ`` or ``PYTHONPATH``, say) is
    not stale: it serves kernels with that environment, and stops when idle.
    """
    from .preload import BASE

    wanted = set(preload)
    for data in running_templates():
        have = set(data.get("preload", [])) - set(BASE)  # modules that loaded
        failed = set(data.get("failed", {}))
        if data["key"] != keep and data.get("env_digest") == digest and have <= wanted \
                and wanted <= have | failed:
            Template(data["key"], tuple(data["preload"])).stop()


def _umask() -> int:
    """This process's umask, read without changing it (os.umask would, for a moment)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
