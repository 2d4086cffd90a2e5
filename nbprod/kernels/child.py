"""The forked kernel: what a child of the template does to become the caller's kernel.

Standard library only until ipykernel (already imported by the template) starts. A child
started for a request (:func:`become_kernel`) takes the request's environment, working
directory, umask and log, starts a new session, reseeds the random generators, watches its
caller and runs ``IPKernelApp``.

A *spare* (:func:`spare_kernel`) is forked before any request, for the request the template
expects next (the shape of the last one: same kernel arguments, working directory, umask and
environment). It does everything above that does not depend on the run — including
``IPKernelApp.initialize``, which is most of a kernel's start-up — on sockets of its own, then
waits on its channel to the template. When the expected request comes, the template sends it
there: the spare takes the run's own variables (``NBPROD_*``, the only ones allowed to
differ, read by nbprod's kernel code when called), its log and its caller, draws fresh seeds
and starts serving; the caller connects to the spare's sockets. Any other request gets a
child of its own, and the spare is discarded.

Either way the kernel leaves through ``os._exit`` after doing what interpreter shutdown does
that a notebook can see (``atexit`` handlers, flushing files left open).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from . import greeting, notice
from .learn import report as report_first_use

_INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
# The real exit, taken when the template imports this module: a notebook may replace (or
# break) os._exit, and a kernel whose exit raised would return into the template's code,
# a second template that removes the real one's socket as it ends.
_EXIT = os._exit
# Variables a spare takes at hand-over: nbprod's per-run ones (run id, capture folder,
# upstream folders, data checks, secrets), read by nbprod's kernel code when called.
LATE_PREFIX = "NBPROD_"
_DROPPED = ("JPY_PARENT_PID",)  # the caller watch replaces ipykernel's parent poller


def become_kernel(request: dict[str, Any]) -> None:
    """In a child forked for ``request``: be its kernel, then exit without returning."""

    def serve(kernel: _Kernel) -> None:
        _take_process(request, request.get("log"), request.get("env", {}))
        _reseed()
        _watch_caller(int(request.get("caller", 0)))
        kernel.app = _initialized_app(request.get("argv", []))
        kernel.notice = request.get("env", {}).get(notice.ENV)
        kernel.app.start()

    _run_then_leave(serve)


def spare_kernel(expected: dict[str, Any], argv: list[str], log: str,
                 channel: socket.socket) -> None:
    """In a child forked ahead of a request like ``expected``: initialize a kernel on the
    sockets of ``argv``'s connection file, wait for the request on ``channel``, serve it."""

    def serve(kernel: _Kernel) -> None:
        env = {k: v for k, v in expected.get("env", {}).items() if not k.startswith(LATE_PREFIX)}
        _take_process(expected, log, env)
        kernel.app = _initialized_app(argv)
        greeting.write(os.path.dirname(log), kernel.app)  # its kernel_info, told ahead
        request = _wait_for_request(channel)
        if request is None:  # discarded, or the template is gone
            return
        _hand_over(kernel.app, request, log)
        kernel.notice = request.get("env", {}).get(notice.ENV)
        kernel.app.start()

    _run_then_leave(serve, folder=os.path.dirname(log))  # its sockets, its files


class _Kernel:
    """The kernel application a child started, once it has one (what its exit closes)."""

    app: Any = None
    notice: str | None = None  # where to say that its work is done (see .notice)


def _run_then_leave(serve: Callable[[_Kernel], None], folder: str | None = None) -> None:
    """Run ``serve`` and end the child with its exit code (0 when it returns, a SystemExit's
    code, 1 after any other exception, whose traceback goes to the kernel's log)."""
    kernel = _Kernel()
    code = 1
    try:
        serve(kernel)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        _print_exc()
    finally:
        leave(code, kernel.app, folder, kernel.notice)


def leave(code: int, app: Any = None, folder: str | None = None,
          done_notice: str | None = None) -> None:
    """End this child, whatever the notebook did to the interpreter: what an interpreter's
    exit does that a notebook can see (then the runner is told, at ``done_notice``),
    ``folder`` removed, then the exit taken before any notebook ran. Never returns."""
    try:
        _at_exit(app)
        notice.send(done_notice)
        if app is not None:  # a kernel ran: what it imported on first use, for the template
            report_first_use()
        if folder is not None:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
    except BaseException:  # nothing may keep this process from ending
        pass
    finally:
        _EXIT(code if isinstance(code, int) else 1)


def _print_exc() -> None:
    with contextlib.suppress(BaseException):
        import traceback

        traceback.print_exc()


def _take_process(request: dict[str, Any], log: str | None, env: dict[str, str]) -> None:
    """A new session, default signals, the log as stdio, the environment, cwd and umask."""
    os.setsid()
    for signum in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _redirect(log)
    os.environ.clear()
    os.environ.update({k: v for k, v in env.items() if k not in _DROPPED})
    time.tzset()  # TZ is part of the startup environment; the C library caches it
    os.chdir(request.get("cwd") or "/")
    if isinstance(request.get("umask"), int):
        os.umask(request["umask"])


def _initialized_app(argv: list[str]) -> Any:
    # sys.path stays the template's (its interpreter started with the kernels' PYTHONPATH):
    # IPKernelApp.init_path puts '' (the cwd) after the standard library, as in any kernel.
    from ipykernel.kernelapp import IPKernelApp

    sys.argv = ["ipykernel_launcher", *argv]
    app: Any = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    _matplotlib_inline()
    _quick_flush()
    _children_looked_up_when_any(app.kernel)
    return app


def _children_looked_up_when_any(kernel: Any) -> None:
    """The kernel's shutdown asks psutil for its process group's children, to stop them:
    psutil reads every process of the machine (2-4 ms). A kernel without a child, which
    the kernel's own ``/proc`` entries tell, has none to stop."""
    lookup = getattr(kernel, "_process_children", None)
    if lookup is None:
        return

    def process_children() -> Any:
        return lookup() if _may_have_children() else []

    kernel._process_children = process_children


def _may_have_children() -> bool:
    """False if no thread of this process has a child; True if one has, or if it cannot be
    told (a kernel built without ``/proc/PID/task/TID/children``)."""
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children", "rb") as listing:
                if listing.read().strip():
                    return True
    except OSError:
        return True
    return False


def _quick_flush() -> None:
    """A flush of the kernel's stdout or stderr with nothing to send returns at once.

    ipykernel's ``OutStream.flush`` hands a flush to its IOPub thread and waits for that
    thread to get to it, even with nothing written since the last flush; the kernel flushes
    both streams at the end of each cell and again after each request: four waits on
    another thread between two cells. A stream with nothing written since (no flush pending,
    its buffers empty, no echo) has nothing that waiting would send: what it wrote before is
    already queued on the IOPub thread, ahead of any later message, so the order of the
    messages a runner sees is unchanged.
    """
    try:
        from ipykernel.iostream import OutStream
    except ImportError:
        return
    flush = OutStream.flush

    def quick(self: Any) -> None:
        if not getattr(self, "_flush_pending", True) and \
                not getattr(self, "_subprocess_flush_pending", True) and \
                getattr(self, "echo", None) is None and _nothing_buffered(self):
            return
        flush(self)  # type: ignore[no-untyped-call]

    quick.__name__ = "quick_flush"
    OutStream.flush = quick  # type: ignore[method-assign]


def _nothing_buffered(stream: Any) -> bool:
    lock = getattr(stream, "_buffer_lock", None)
    buffers = getattr(stream, "_buffers", None)
    if lock is None or not isinstance(buffers, dict):
        return False  # an ipykernel this code does not know: its own flush
    with lock:
        return all(not buffer.tell() for buffer in buffers.values())


def _wait_for_request(channel: socket.socket) -> dict[str, Any] | None:
    data = b""
    while not data.endswith(b"\n"):
        try:
            chunk = channel.recv(65536)
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    channel.close()
    request: dict[str, Any] = json.loads(data)
    return request


def _hand_over(app: Any, request: dict[str, Any], spare_log: str) -> None:
    """Become the kernel of ``request``: its run variables, log, cwd, caller, fresh seeds."""
    os.environ.update({k: v for k, v in request.get("env", {}).items()
                       if k.startswith(LATE_PREFIX)})
    os.chdir(request.get("cwd") or "/")  # the same path; its folder may have been replaced
    target = request.get("log")
    if target:
        _move_log(spare_log, target)
    else:
        with contextlib.suppress(OSError):
            os.unlink(spare_log)
    _reseed()
    _watch_caller(int(request.get("caller", 0)))


def _move_log(spare_log: str, target: str) -> None:
    """What the kernel wrote while starting goes to the run's log, and so does what follows:
    the descriptors ipykernel kept of the original stdout and stderr now point at it."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        with contextlib.suppress(OSError), open(spare_log, "rb") as early:
            os.write(fd, early.read())
        with contextlib.suppress(OSError):
            os.unlink(spare_log)
        for stream in (sys.stdout, sys.stderr):
            copy = getattr(stream, "_original_stdstream_copy", None)
            if isinstance(copy, int):
                os.dup2(fd, copy)
    finally:
        os.close(fd)


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
        for obj in gc.get_objects() if _files_open_for_writing() else ():
            # ipykernel's streams send to IOPub; their output already reached the notebook
            if isinstance(obj, io.IOBase) and not obj.closed and \
                    not type(obj).__module__.startswith("ipykernel"):
                with contextlib.suppress(BaseException):
                    obj.flush()
    for stream in (sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()


def _files_open_for_writing() -> bool:
    """Whether a descriptor other than stdio is a file or pipe open for writing: without one,
    no file object can hold data to flush, and the scan of every object (10-80 ms after a
    notebook that built large data) is skipped."""
    import fcntl
    import stat

    # ipykernel sends fds 1 and 2 to a pipe it reads, and keeps copies of the original
    # stdout and stderr (the kernel's log) that it writes with os.write: no buffer to flush
    copies = [getattr(stream, "_original_stdstream_copy", None)
              for stream in (sys.stdout, sys.stderr)]
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
        stdio = {(st.st_dev, st.st_ino) for st in (
            os.fstat(fd) for fd in (1, 2, *(c for c in copies if isinstance(c, int))))}
    except OSError:
        return True
    for fd in fds:
        try:
            st = os.fstat(fd)
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        except OSError:
            continue
        if fd <= 2 or (st.st_dev, st.st_ino) in stdio:
            continue
        if (stat.S_ISREG(st.st_mode) or stat.S_ISFIFO(st.st_mode)) and \
                flags & os.O_ACCMODE != os.O_RDONLY:
            return True
    return False


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
