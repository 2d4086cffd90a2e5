"""A jupyter_client kernel provisioner whose kernels are forked from a template.

Registered as ``nbprod-fork`` in the ``jupyter_client.kernel_provisioners`` entry-point group
and selected through a kernelspec's ``kernel_provisioner`` metadata, so papermill and nbclient
start, interrupt and stop these kernels through the usual KernelManager calls. The local
provisioner's connection-file set-up is reused; only launching and process control differ:
the kernel is not this process's child, so it is watched through a pidfd (which cannot be
fooled by a recycled PID) and its exit status is asked of the template that reaped it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import time
from typing import Any, cast

from jupyter_client.provisioning.local_provisioner import LocalProvisioner
from traitlets import List, Unicode

from ..errors import InfraError, KernelNotReady
from . import greeting
from .client import Template, env_digest, startup_env

NAME = "nbprod-fork"


def provisioner_metadata(preload: list[str],
                         template: tuple[str, str] | None = None) -> dict[str, Any]:
    """The kernelspec metadata that selects this provisioner; ``template``: the key of the
    template chosen for these modules and the digest of the startup environment it was
    chosen for (saves working the key out again: the modules' files are looked up)."""
    config: dict[str, Any] = {"preload": preload}
    if template is not None:
        config.update(key=template[0], env_digest=template[1])
    return {"kernel_provisioner": {"provisioner_name": NAME, "config": config}}


class ForkProvisioner(LocalProvisioner):
    preload = List(Unicode(), config=True, help="Modules the template preloads.")
    key = Unicode("", config=True, help="The template's key, if the caller knows it.")
    env_digest = Unicode("", config=True, help="The startup environment the key is for.")

    pid: int | None = None
    pidfd: int | None = None
    exit_code: int | None = None
    template: Template | None = None
    kernel_info: dict[str, Any] | None = None  # a spare's, told ahead (see .greeting)

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        stdout = kwargs.get("stdout")
        log = getattr(stdout, "name", None)
        env = kwargs.get("env") or dict(os.environ)
        cwd = os.path.abspath(str(kwargs.get("cwd") or os.getcwd()))
        self.template, chosen = self._template(env)
        try:
            # nbprod chose to fork because this template answered a moment ago: a template
            # that has stopped since fails the fork, and the run falls back to a plain
            # kernel. Any other template (the kernel's environment asks for another than
            # nbprod expected, or the provisioner is used outside nbprod) is started here.
            if not chosen:
                await asyncio.to_thread(self.template.ensure, wait=True)
            self.pid, spare = self.template.fork(
                argv=_kernel_arguments(cmd), cwd=cwd,
                env={str(k): str(v) for k, v in env.items()},
                log=log if isinstance(log, str) else None,
                transport=str(self.connection_info.get("transport", "tcp")))
        except (OSError, ValueError, InfraError) as exc:
            # KernelNotReady is a RuntimeError: how jupyter_client reports a kernel that
            # cannot start.
            raise KernelNotReady(f"kernel template {self.template.key} unavailable: "
                                 f"{exc}") from exc
        self.pgid = self.pid  # the kernel called setsid
        self.exit_code = None
        try:
            self.pidfd = os.pidfd_open(self.pid)
        except OSError:
            self.pidfd = None
        self.kernel_info = None
        if spare is not None:
            # A spare kernel, initialized ahead on sockets of its own: its connection
            # information is the kernel's (jupyter_client rewrites the connection file).
            self.connection_info = cast(Any, {**spare, "key": str(spare["key"]).encode()})
            self.kernel_info = greeting.read(spare)  # if it has written it yet
        return self.connection_info

    def _template(self, env: dict[str, str]) -> tuple[Template, bool]:
        """The template for these modules and this kernel environment, and whether it is
        the one the caller chose (and found running) for them."""
        startup = startup_env(env)
        if self.key and self.env_digest == env_digest(startup):
            return Template(self.key, tuple(sorted(set(self.preload))),
                            tuple(startup.items())), True
        return Template.for_modules(self.preload, env), False

    @property
    def has_process(self) -> bool:
        return self.pid is not None and self.exit_code is None

    def exit_code_now(self) -> int | None:
        """The kernel's exit code if it has ended (negative: killed by that signal)."""
        if self.pid is None or self.exit_code is not None:
            return self.exit_code
        if self.pidfd is not None:
            ready, _, _ = select.select([self.pidfd], [], [], 0)
            ended = bool(ready)
        else:
            ended = not _exists(self.pid)
        if not ended:
            return None
        assert self.template is not None
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # the template reaps within its 0.5 s tick
            with contextlib.suppress(OSError, ValueError):
                _running, code = self.template.status(self.pid)
                if code is not None:
                    self.exit_code = int(code)
                    return self.exit_code
            time.sleep(0.02)
        self.exit_code = -int(signal.SIGKILL)  # ended, status unknown: report it as killed
        return self.exit_code

    async def poll(self) -> int | None:
        return self.exit_code_now()

    async def wait(self) -> int | None:
        while self.exit_code_now() is None:
            await asyncio.sleep(0.01)
        return self.exit_code

    async def send_signal(self, signum: int) -> None:
        if self.pid is not None and self.exit_code_now() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signum)

    async def kill(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = None
        await super().cleanup(restart=restart)


def _kernel_arguments(cmd: list[str]) -> list[str]:
    """The ipykernel arguments of a kernel command (``-f CONNECTION_FILE`` and the rest)."""
    for marker in ("ipykernel_launcher", "ipykernel"):
        if marker in cmd:
            return cmd[cmd.index(marker) + 1:]
    raise KernelNotReady(f"not an ipykernel command, cannot fork it: {cmd[:4]}")


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
