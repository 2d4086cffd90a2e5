"""The template process: imports once, forks a fresh kernel per request.

    python -m nbprod.kernels.forkserver --socket PATH --info PATH [--preload MOD ...]

The template imports ipykernel, IPython, zmq, tornado and the preload modules, freezes the
garbage collector's view of them, and serves requests on a Unix socket, one JSON line each:
``fork`` (start a kernel), ``status`` (how a kernel ended), ``ping``, ``stop``. It creates no
zmq context, event loop or thread of its own, so forking it is safe.

The template is started with the kernels' startup environment (``PYTHONPATH``, hash seed,
locale, ``TZ``, thread-pool and backend variables: see ``client.startup_env``), so what the
interpreter and the preloaded libraries read once is what a plain kernel would read. A forked
kernel starts a new session (a timeout kills its whole process group), takes the caller's
environment, working directory and umask, reseeds ``random`` and NumPy's global generator,
writes its output to the caller's log file, and exits when the caller dies (pidfd watch). When
its kernel shuts down it does what an interpreter does at exit that matters to a notebook
(``atexit`` handlers, flushing files left open) and leaves through ``os._exit``. Only the
template can reap its children, so it keeps their exit statuses for ``status`` requests. It
exits by itself after ``--idle`` seconds without requests or live kernels.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import gc
import importlib
import json
import os
import select
import shutil
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from ..rundir import same_user
from . import learn
from .child import become_kernel, leave
from .preload import warm_first_use
from .spare import Spare, start_spare

_STATUS_KEEP = 600.0  # seconds an exit status stays available for status requests
_INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--info", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--env-digest", default="")
    parser.add_argument("--idle", type=float, default=900.0)
    parser.add_argument("--max-templates", type=int, default=0, help="0: no cap")
    parser.add_argument("--max-memory", type=int, default=0, help="bytes; 0: no cap")
    parser.add_argument("--preload", nargs="*", default=[])
    args = parser.parse_args(argv)
    owner = claim(Path(args.socket))
    if owner is None:
        return  # another template of this key is starting or serving: it is the one
    if sys.path and sys.path[0] in ("", os.getcwd()):
        sys.path.pop(0)  # the template's own cwd is not the kernel's
    if not os.environ.get("MPLBACKEND"):
        # What ipykernel sets before a notebook can import matplotlib; a preloaded pyplot
        # would otherwise settle on a non-interactive backend before any kernel exists.
        os.environ["MPLBACKEND"] = _INLINE_BACKEND
    remove_dead_spares(Path(args.socket).parent, args.key)  # an earlier template's
    loaded, failed = _preload(args.preload)
    warm_first_use()
    gc.collect()
    gc.freeze()
    server = _Server(Path(args.socket), Path(args.info), args.key, args.idle, loaded, failed,
                     owner, args.env_digest)
    learn.Known.socket = str(server.path)
    learn.Known.update(server.refused)
    server.cap = (args.max_templates, args.max_memory)
    server.serve()


def remove_dead_spares(runtime: Path, key: str) -> int:
    """Remove the socket folders of this key's spare kernels that no process serves any more
    (how many). Called by the key's only template (it holds the owner lock), before it starts
    spares of its own: what is left is an earlier template's (a spare or a kernel killed after
    it stopped). A kernel still running listens on its shell socket and keeps its folder."""
    removed = 0
    for folder in runtime.glob(f"k-{key}-s*"):
        if not folder.is_dir() or folder.is_symlink() or _listening(folder / "k-1"):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _listening(path: Path) -> bool:
    """Whether a process accepts connections on this Unix socket."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(str(path))
    except OSError:  # refused (nobody listens), no such socket, or not a socket
        return False
    finally:
        probe.close()
    return True


def owner_path(socket_path: Path) -> Path:
    return socket_path.with_suffix(".owner")


def claim(socket_path: Path) -> int | None:
    """Hold the key's owner lock for this process's life; None if another process holds it.

    Only the holder binds, replaces or removes the socket, so two templates of one key never
    run at once, and one that exits cannot remove its successor's socket.
    """
    fd = os.open(owner_path(socket_path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def owned(socket_path: Path) -> bool:
    """Whether a template process holds (is starting or serving with) this key."""
    fd = claim(socket_path)
    if fd is None:
        return True
    os.close(fd)  # closing the only descriptor releases the lock
    return False


def _preload(modules: list[str]) -> tuple[list[str], dict[str, str]]:
    from .preload import BASE

    loaded, failed = [], {}
    for name in [*BASE, *modules]:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception as exc:
            failed[name] = f"{type(exc).__name__}: {exc}"[:200]
    return loaded, failed


class _Server:
    def __init__(self, path: Path, info: Path, key: str, idle: float, loaded: list[str],
                 failed: dict[str, str], owner: int, env_digest: str = "") -> None:
        self.path = path
        self.env_digest = env_digest
        self.owner = owner
        self.info = info
        self.key = key
        self.idle = idle
        self.loaded = loaded
        self.failed = failed
        self.children: set[int] = set()
        self.statuses: dict[int, tuple[int, float]] = {}
        self.spare: Spare | None = None
        self.folders: dict[int, Path] = {}  # spares' socket folders, removed when they end
        self.last_request = time.monotonic()
        self.started = time.time()
        self.used: float | None = None  # wall time of the last fork (least recently used)
        self.cap = (0, 0)  # (templates, bytes) to hold the live templates to; 0: no cap
        # learned from kernels (see .learn), and never to learn (failed, or made it unsafe)
        self.learned: list[str] = []
        self.refused: set[str] = learn.read_refused(path) | set(failed)
        self.last_fork: dict[str, Any] | None = None  # the shape a new spare takes

    def serve(self) -> None:
        self.path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        os.chmod(self.path, 0o600)
        listener.listen(64)
        signal.signal(signal.SIGTERM, lambda *_: self._exit(listener))
        self._write_info()
        self._enforce_cap()
        try:
            while True:
                self._reap()
                ready, _, _ = select.select([listener], [], [], 0.5)
                if ready:
                    conn, _ = listener.accept()
                    self.last_request = time.monotonic()
                    with contextlib.suppress(OSError):  # a caller that gave up and left
                        self._handle(conn, listener)
                elif not self.children and time.monotonic() - self.last_request > self.idle:
                    break
        finally:
            self._exit(listener)

    def _exit(self, listener: socket.socket) -> None:
        if self.spare is not None:
            spare, self.spare = self.spare, None
            spare.discard()
            with contextlib.suppress(OSError):
                os.waitpid(spare.pid, 0)  # killed: at once
            shutil.rmtree(self.folders.pop(spare.pid, spare.folder), ignore_errors=True)
        self._reap()  # and the folders of the kernels that have ended
        listener.close()
        for leftover in (self.path, self.info, self.path.with_suffix(".log")):
            leftover.unlink(missing_ok=True)  # ours: we hold the owner lock until exit
        os._exit(0)

    def _enforce_cap(self) -> None:
        """Now that this template is ready (and listed), stop the least recently used
        others beyond the cap (see :mod:`.cap`); done here, not by the caller, so templates
        that were still starting when the caller looked are counted too."""
        count, memory = self.cap
        if count <= 0 and memory <= 0:
            return
        from .cap import Limits, enforce
        from .client import Template, running_templates

        limits = Limits(templates=count if count > 0 else 1 << 30,
                        memory=memory if memory > 0 else 1 << 62)
        with contextlib.suppress(Exception):  # a cap that cannot be kept must not stop us
            enforce(limits, self.key, False, lambda: running_templates(skip=self.key),
                    lambda t: Template(str(t["key"]), tuple(t.get("preload", []))).stop(),
                    itself=self._itself())

    def _itself(self) -> dict[str, Any]:
        return {"key": self.key, "pid": os.getpid(), "kernels": 0, "started": self.started,
                "used": None, "spare": None}

    def _write_info(self) -> None:
        data = {"pid": os.getpid(), "key": self.key, "socket": str(self.path),
                "preload": self.loaded, "failed": self.failed, "python": sys.executable,
                "started": self.started, "env_digest": self.env_digest}
        tmp = self.info.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.info)

    def _reap(self) -> None:
        while self.children or self.folders:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                break
            if pid == 0:
                break
            self.children.discard(pid)
            folder = self.folders.pop(pid, None)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            if self.spare is not None and self.spare.pid == pid:
                self.spare.channel.close()  # it died before it was needed
                self.spare = None
            self.statuses[pid] = (os.waitstatus_to_exitcode(status), time.monotonic())
        cutoff = time.monotonic() - _STATUS_KEEP
        for pid in [p for p, (_, at) in self.statuses.items() if at < cutoff]:
            del self.statuses[pid]

    def _handle(self, conn: socket.socket, listener: socket.socket) -> None:
        with conn:
            if not same_user(conn):  # another user's process: refused unread
                return
            conn.settimeout(10)
            try:
                request = json.loads(read_line(conn))
            except (OSError, ValueError):
                return
            op = request.get("op")
            if op == "fork":
                self.used = time.time()
                self.last_fork = request
                pid, connection = self._fork(request, conn, listener)
                self.children.add(pid)
                reply: dict[str, Any] = {"ok": True, "pid": pid}
                if connection is not None:
                    reply["connection"] = connection
                try:
                    _reply(conn, reply)
                except OSError:  # nobody will connect to this kernel: do not leave it
                    _kill(pid)
                    raise
                finally:
                    if request.get("spare", True):
                        self._renew_spare(request, conn, listener)
            elif op == "status":
                self._reap()
                pid = int(request.get("pid", 0))
                exited = self.statuses.get(pid)
                _reply(conn, {"ok": True, "running": pid in self.children,
                              "exit": exited[0] if exited else None})
            elif op == "ping":
                self._reap()  # "kernels" counts the live ones
                _reply(conn, {"ok": True, "pid": os.getpid(), "key": self.key,
                              "preload": self.loaded, "failed": self.failed,
                              "kernels": len(self.children), "started": self.started,
                              "used": self.used, "learned": len(self.learned),
                              "spare": self.spare.pid if self.spare is not None else None})
            elif op == "learn":  # from a kernel as it exits; no reply (it does not wait)
                self._learn(request.get("modules"), conn, listener)
            elif op == "stop":
                _reply(conn, {"ok": True})
                self._exit(listener)
            else:
                _reply(conn, {"ok": False, "error": f"unknown op {op!r}"})


    def _learn(self, names: object, conn: socket.socket, listener: socket.socket) -> None:
        """Import what a kernel imported on first use; a new spare has it (see .learn)."""
        learned, safe = learn.learn(names, self.refused)
        if not safe:
            learn.write_refused(self.path, self.refused)
            self._exit(listener)  # never returns: a fresh template is started when asked
        learn.Known.update(self.refused)  # what kernels forked from now on need not report
        if not learned:
            return
        self.learned += learned
        warm_first_use()  # of a module learned just now
        gc.collect()
        gc.freeze()
        if self.spare is not None and self.last_fork is not None:
            spare, self.spare = self.spare, None  # forked before: without what was learned
            spare.discard()
            self._renew_spare(self.last_fork, conn, listener)

    def _fork(self, request: dict[str, Any], conn: socket.socket,
              listener: socket.socket) -> tuple[int, dict[str, Any] | None]:
        """The kernel for ``request``: the spare if it has the request's shape, else a new
        child; with the spare's connection information (None: the caller's file)."""
        from .spare import shape

        spare, self.spare = self.spare, None
        if spare is not None:
            if spare.shape == shape(request) and spare.hand_over(request):
                return spare.pid, spare.connection
            spare.discard()
        pid = os.fork()
        if pid == 0:
            try:
                self._close_in_child(conn, listener)
                become_kernel(request)  # never returns
            finally:
                leave(1)  # whatever happened, this child never runs the template's code
        return pid, None

    def _renew_spare(self, request: dict[str, Any], conn: socket.socket,
                     listener: socket.socket) -> None:
        """A spare for the next request like this one (after the reply: the caller does not
        wait for the fork)."""
        try:
            spare = start_spare(request, self.key, self.path.parent,
                                lambda: self._close_in_child(conn, listener))
        except OSError:
            return
        if spare is not None:
            self.spare = spare
            self.folders[spare.pid] = spare.folder

    def _close_in_child(self, conn: socket.socket, listener: socket.socket) -> None:
        """In a forked child: close what is the template's (the lock is not its kernels')."""
        listener.close()
        conn.close()
        os.close(self.owner)
        if self.spare is not None:
            self.spare.channel.close()


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)  # a spare's session; a new child may not have one yet
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def read_line(conn: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode()


def _reply(conn: socket.socket, data: dict[str, Any]) -> None:
    conn.sendall((json.dumps(data) + "\n").encode())


if __name__ == "__main__":
    main()
