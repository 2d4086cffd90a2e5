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
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ..rundir import same_user

_STATUS_KEEP = 600.0  # seconds an exit status stays available for status requests
_INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--info", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--env-digest", default="")
    parser.add_argument("--idle", type=float, default=900.0)
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
    loaded, failed = _preload(args.preload)
    gc.collect()
    gc.freeze()
    _Server(Path(args.socket), Path(args.info), args.key, args.idle, loaded, failed,
            owner, args.env_digest).serve()


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
        self.last_request = time.monotonic()
        self.started = time.time()

    def serve(self) -> None:
        self.path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        os.chmod(self.path, 0o600)
        listener.listen(64)
        signal.signal(signal.SIGTERM, lambda *_: self._exit(listener))
        self._write_info()
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
        listener.close()
        for leftover in (self.path, self.info, self.path.with_suffix(".log")):
            leftover.unlink(missing_ok=True)  # ours: we hold the owner lock until exit
        os._exit(0)

    def _write_info(self) -> None:
        data = {"pid": os.getpid(), "key": self.key, "socket": str(self.path),
                "preload": self.loaded, "failed": self.failed, "python": sys.executable,
                "started": self.started, "env_digest": self.env_digest}
        tmp = self.info.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.info)

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                break
            if pid == 0:
                break
            self.children.discard(pid)
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
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    conn.close()
                    os.close(self.owner)  # the lock is the template's, not its kernels'
                    _kernel(request)  # never returns
                self.children.add(pid)
                try:
                    _reply(conn, {"ok": True, "pid": pid})
                except OSError:  # nobody will connect to this kernel: do not leave it
                    os.kill(pid, signal.SIGKILL)
                    raise
            elif op == "status":
                self._reap()
                pid = int(request.get("pid", 0))
                exited = self.statuses.get(pid)
                _reply(conn, {"ok": True, "running": pid in self.children,
                              "exit": exited[0] if exited else None})
            elif op == "ping":
                _reply(conn, {"ok": True, "pid": os.getpid(), "key": self.key,
                              "preload": self.loaded, "failed": self.failed,
                              "kernels": len(self.children), "started": self.started})
            elif op == "stop":
                _reply(conn, {"ok": True})
                self._exit(listener)
            else:
                _reply(conn, {"ok": False, "error": f"unknown op {op!r}"})


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


def _kernel(request: dict[str, Any]) -> None:
    """In the forked child: become the caller's kernel, then exit without returning."""
    code = 1
    app: Any = None
    try:
        os.setsid()
        for signum in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _redirect(request.get("log"))
        os.environ.clear()
        os.environ.update({k: v for k, v in request.get("env", {}).items()
                           if k != "JPY_PARENT_PID"})
        time.tzset()  # TZ is part of the startup environment; the C library caches it
        os.chdir(request.get("cwd") or "/")
        if isinstance(request.get("umask"), int):
            os.umask(request["umask"])
        # sys.path stays the template's (its interpreter started with the kernels' PYTHONPATH):
        # IPKernelApp.init_path puts '' (the cwd) after the standard library, as in any kernel.
        _reseed()
        _watch_caller(int(request.get("caller", 0)))
        from ipykernel.kernelapp import IPKernelApp

        sys.argv = ["ipykernel_launcher", *request.get("argv", [])]
        app = IPKernelApp.instance()
        app.initialize(sys.argv[1:])
        _matplotlib_inline()
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        _at_exit(app)
        os._exit(code)


def _matplotlib_inline() -> None:
    """Hook a preloaded inline backend into this kernel's shell, as importing it here would."""
    backend = sys.modules.get("matplotlib_inline.backend_inline")
    if backend is not None:
        with contextlib.suppress(Exception):
            backend._enable_matplotlib_integration()


def _at_exit(app: Any) -> None:
    """What interpreter shutdown does that a notebook can see, before ``os._exit``.

    ``atexit`` handlers run (the notebook's and its libraries'), and files left open are
    flushed (an interpreter flushes them when it finalizes them). ipykernel's own handlers,
    which only close its sockets and threads, are left out: its ``close`` stops the IOPub
    thread, then joins the control thread, which may still be flushing output to IOPub after
    the shutdown reply — a plain kernel then hangs until the flush times out (10 s), and is
    killed. The garbage collector is not unfrozen: the template's objects stay untouched.
    """
    import atexit
    import io

    if app is not None:
        for teardown in ("close", "cleanup_connection_file"):
            with contextlib.suppress(Exception):
                atexit.unregister(getattr(app, teardown))
        with contextlib.suppress(Exception):
            atexit.unregister(app.iopub_thread.stop)
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    with contextlib.suppress(BaseException):
        for obj in gc.get_objects():
            # ipykernel's streams send to IOPub; their output already reached the notebook
            if isinstance(obj, io.IOBase) and not obj.closed and \
                    not type(obj).__module__.startswith("ipykernel"):
                with contextlib.suppress(BaseException):
                    obj.flush()
    for stream in (sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()


def _redirect(log: str | None) -> None:
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if log else null
    os.dup2(target, 1)
    os.dup2(target, 2)
    for fd in {null, target}:
        if fd > 2:
            os.close(fd)


def _reseed() -> None:
    """The template's random state is copied into every kernel: draw fresh seeds."""
    import random

    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def _watch_caller(caller: int) -> None:
    """Exit when the process that asked for this kernel dies (as ipykernel's parent poller)."""
    if caller <= 0:
        return

    def watch() -> None:
        try:
            fd = os.pidfd_open(caller)
        except (OSError, AttributeError):
            fd = None
        while True:
            if fd is not None:
                ready, _, _ = select.select([fd], [], [], 5.0)
                if ready:
                    os._exit(1)
            else:
                try:
                    os.kill(caller, 0)
                except ProcessLookupError:
                    os._exit(1)
                time.sleep(0.2)

    threading.Thread(target=watch, name="nbprod-caller-watch", daemon=True).start()


if __name__ == "__main__":
    main()
