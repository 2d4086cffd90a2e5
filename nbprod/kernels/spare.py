"""The template's spare kernel: initialized before it is asked for (see :mod:`.child`).

Starting a kernel is mostly ``IPKernelApp.initialize`` (~50-80 ms): the shell, its magics and
formatters, the sockets and their threads. After serving a fork request, the template forks
a spare for the next request of the same *shape* — the kernel arguments other than the
connection file, the working directory, the umask, and the environment other than nbprod's
per-run ``NBPROD_*`` variables — and the spare initializes on sockets of its own (IPC, in the
template's private runtime folder, with a key of its own) while the caller stores its run.
A request of that shape is handed to the spare, and the reply carries the spare's connection
information, which the provisioner returns to jupyter_client as the kernel's. A request of
another shape gets a fresh child, and the spare is replaced by one of the new shape.

Standard library only: this runs in the template, before and between forks.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .child import LATE_PREFIX

_PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


def shape(request: dict[str, Any]) -> str | None:
    """What a spare must have been started with to serve ``request``; None: no spare can
    (no connection file argument, or not an IPC kernel)."""
    argv = request.get("argv")
    if request.get("transport") != "ipc" or not isinstance(argv, list) or "-f" not in argv:
        return None
    at = argv.index("-f")
    rest = argv[:at] + argv[at + 2:]
    env = {k: v for k, v in request.get("env", {}).items()
           if not k.startswith(LATE_PREFIX) and k != "JPY_PARENT_PID"}
    return json.dumps([rest, request.get("cwd"), request.get("umask"), sorted(env.items())])


@dataclass
class Spare:
    """A spare child: its pid, the template's end of its channel, its connection info."""

    pid: int
    channel: socket.socket
    shape: str
    connection: dict[str, Any]
    folder: Path

    def hand_over(self, request: dict[str, Any]) -> bool:
        """Send the request to the spare; False if it is gone."""
        try:
            self.channel.sendall((json.dumps(request) + "\n").encode())
        except OSError:
            return False
        finally:
            self.channel.close()
        return True

    def discard(self) -> None:
        """Stop the spare (it exits when its channel closes; SIGKILL makes sure)."""
        self.channel.close()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)


def start_spare(request: dict[str, Any], key: str, runtime: Path,
                in_child: Callable[[], None]) -> Spare | None:
    """Fork a spare kernel for requests shaped like ``request`` (None if none can serve
    them). ``in_child`` runs first in the child (closing the template's descriptors)."""
    wanted = shape(request)
    if wanted is None:
        return None
    from .child import leave, spare_kernel

    folder = runtime / f"k-{key}-s{secrets.token_hex(4)}"
    folder.mkdir(mode=0o700)
    connection: dict[str, Any] = {"transport": "ipc", "ip": str(folder / "k"),
                                  "key": secrets.token_hex(16),
                                  "signature_scheme": "hmac-sha256"}
    connection.update({name: index + 1 for index, name in enumerate(_PORTS)})
    connection_file = folder / "kernel.json"
    connection_file.write_text(json.dumps(connection))
    argv = list(request["argv"])
    argv[argv.index("-f") + 1] = str(connection_file)
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        try:
            ours.close()
            in_child()
            spare_kernel(request, argv, str(folder / "start.log"), theirs)  # never returns
        finally:
            leave(1)  # whatever happened, this child never runs the template's code
    theirs.close()
    return Spare(pid, ours, wanted, connection, folder)

