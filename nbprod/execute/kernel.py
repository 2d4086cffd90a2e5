"""Kernel supervision: start, watch, and always stop a kernel with its whole process group.

jupyter_client starts each kernel in a new session, so the kernel and everything it spawns
share one process group. nbprod keeps the kernel's ``Popen`` to learn how it ended (exit code
or signal) and kills the group when a run ends, so no kernel process outlives its run. If the
runner itself dies, ipykernel's parent poller ends the kernel (``JPY_PARENT_PID``).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

_POLL = 0.01


class SupervisedKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` that remembers its kernel process and process group.

    With ``preload`` set (a list, possibly empty), the kernel is forked from a template
    (:mod:`nbprod.kernels`) through the ``nbprod-fork`` provisioner instead of spawned.
    """

    kernel_process: subprocess.Popen[bytes] | None = None
    kernel_pgid: int | None = None
    fork_provisioner: Any = None
    preload: list[str] | None = None
    template: tuple[str, str] | None = None  # (key, env digest) chosen for it, if known
    # The kernel's memory cgroup and its OOM-kill count when it started: the evidence that
    # a kernel killed by SIGKILL ran out of memory.
    memory_cgroup: Path | None = None
    oom_kills_at_start: int | None = None

    async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
        import zmq

        self.kernel_process = None
        self.kernel_pgid = None
        self.fork_provisioner = None
        # Connect-before-bind retries every 10 ms instead of zmq's 100 ms.
        self.context.setsockopt(zmq.RECONNECT_IVL, 10)
        if self.preload is not None:
            from ..kernels.provisioner import provisioner_metadata

            spec = self.kernel_spec
            if spec is not None:
                spec.metadata = {**(spec.metadata or {}), **provisioner_metadata(self.preload,
                                                                                self.template)}
        await self._start_without_pause(**kw)
        process = getattr(self.provisioner, "process", None)
        if isinstance(process, subprocess.Popen):
            self.kernel_process = process
            with contextlib.suppress(OSError):
                self.kernel_pgid = os.getpgid(process.pid)
        elif getattr(self.provisioner, "pid", None) is not None:
            self.fork_provisioner = self.provisioner
            self.kernel_pgid = getattr(self.provisioner, "pid", None)
        if self.kernel_pgid is not None:
            self.memory_cgroup = memory_cgroup(self.kernel_pgid)
            self.oom_kills_at_start = oom_kills(self.memory_cgroup)

    async def _start_without_pause(self, **kw: Any) -> None:
        """``KernelManager.start_kernel`` without its ``in_pending_state`` wrapper's
        ``asyncio.sleep(0.01)`` ("to ensure tests can capture the state before done"): 10 ms
        of every run. The wrapper's bookkeeping (the ``ready`` future) is kept; a
        jupyter_client without the unwrapped method gets the wrapped one."""
        start = getattr(AsyncKernelManager.start_kernel, "__wrapped__", None)
        if start is None or not hasattr(self, "_ready"):
            await super().start_kernel(**kw)
            return
        from jupyter_client.manager import _get_future

        if self._attempted_start or not self._ready:
            self._ready = _get_future()
        try:
            await start(self, **kw)
        except Exception as exc:
            self._ready.set_exception(exc)
            # retrieved here, as jupyter_client's wrapper does: the caller gets exc raised,
            # and asyncio would print "exception was never retrieved" when it is collected
            self._ready.exception()
            raise
        if self.owns_kernel:
            self._ready.set_result(None)

    def ran_out_of_memory(self) -> bool:
        """Whether the kernel's memory cgroup killed a process since the kernel started."""
        now = oom_kills(self.memory_cgroup)
        return now is not None and self.oom_kills_at_start is not None and \
            now > self.oom_kills_at_start

    def _exit_code_now(self) -> int | None:
        if self.kernel_process is not None:
            return self.kernel_process.poll()
        if self.fork_provisioner is not None:
            code: int | None = self.fork_provisioner.exit_code_now()
            return code
        return None

    def exit_status(self, wait: float = 1.0) -> int | None:
        """The kernel's return code (negative: killed by that signal), waiting up to ``wait``."""
        if self.kernel_process is None and self.fork_provisioner is None:
            return None
        deadline = time.monotonic() + wait
        code = self._exit_code_now()
        while code is None and time.monotonic() < deadline:
            time.sleep(_POLL)
            code = self._exit_code_now()
        return code

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the kernel's process group (kernel and its children)."""
        if self.kernel_pgid is not None and self.kernel_pgid != os.getpgid(0):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.kernel_pgid, signum)
        elif self.kernel_process is not None and self.kernel_process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.kernel_process.send_signal(signum)

    def kill_group(self) -> None:
        """SIGKILL the kernel's process group; safe to call from any thread, any time."""
        self.signal_group(signal.SIGKILL)

    async def stop(self, *, graceful: bool, wait: float) -> None:
        """End the kernel: a shutdown request first if ``graceful``, then SIGKILL the group.

        Never waits longer than ``wait`` for a kernel that ignores the request.
        """
        await self.end_stop(wait=wait, asked=await self.begin_stop(graceful=graceful))

    async def begin_stop(self, *, graceful: bool) -> bool:
        """Send the kernel a shutdown request if ``graceful`` (whether it was sent). The
        kernel then runs its exit (``atexit`` handlers, open files flushed) by itself while
        the caller does other work; :meth:`end_stop` waits for it."""
        if self.has_kernel and graceful and await self.is_alive():
            with contextlib.suppress(Exception):
                await self.request_shutdown()
                return True
        return False

    async def end_stop(self, *, wait: float, asked: bool) -> None:
        """Wait up to ``wait`` for a kernel that was ``asked`` to shut down, then SIGKILL
        its group (what is left of it), reap it and release its connection."""
        if asked:
            self._wait_gone(time.monotonic() + wait)
        self.kill_group()
        if self.kernel_process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.kernel_process.wait(timeout=max(wait, 1.0))
        else:
            self.exit_status(wait=max(wait, 1.0))
        with contextlib.suppress(Exception):
            await self.cleanup_resources()

    def kernel_pidfd(self) -> int | None:
        """A pidfd of a forked kernel (readable once it has ended), if it has one."""
        pidfd = getattr(self.fork_provisioner, "pidfd", None)
        return pidfd if isinstance(pidfd, int) else None

    def _wait_gone(self, deadline: float) -> None:
        """Block until the kernel process has ended or ``deadline`` passes: on its pidfd
        (a forked kernel) or ``wait`` (a spawned one), not by polling."""
        remaining = max(0.0, deadline - time.monotonic())
        if self.kernel_process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.kernel_process.wait(timeout=remaining)
            return
        pidfd = self.kernel_pidfd()
        if pidfd is not None:
            with contextlib.suppress(OSError, ValueError):
                select.select([pidfd], [], [], remaining)
            return
        while self._exit_code_now() is None and time.monotonic() < deadline:
            time.sleep(_POLL)


def memory_cgroup(pid: int) -> Path | None:
    """The folder of the memory cgroup ``pid`` is in (cgroup v2, or v1's memory controller)."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _id, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return Path("/sys/fs/cgroup/memory") / path.lstrip("/")
    for line in lines:
        if line.startswith("0::"):
            return Path("/sys/fs/cgroup") / line[3:].lstrip("/")
    return None


def oom_kills(cgroup: Path | None) -> int | None:
    """The cgroup's count of processes killed for memory (``oom_kill``), if it keeps one."""
    if cgroup is None:
        return None
    for name in ("memory.events", "memory.oom_control"):
        try:
            text = (cgroup / name).read_text()
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
    return None


def describe_exit(returncode: int | None) -> tuple[str, int | None, str | None]:
    """A phrase for how a kernel ended, with its exit code and signal name."""
    if returncode is None:
        return "the kernel stopped responding", None, None
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"the kernel was killed by {name}", returncode, name
    return f"the kernel exited with code {returncode}", returncode, None
