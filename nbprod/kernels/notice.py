"""A forked kernel's word that its work is done, sent just before it exits.

What a kernel leaves that a notebook can see (files written, flushed, ``atexit`` handlers
run) is complete before its last step, ``os._exit`` (:func:`.child.leave`); the exit itself
then takes 9-20 ms more (the process's teardown, most likely unmapping what it shares with
its template).
The runner waits for this notice instead, stores the kernel's files and records the run
while the kernel's process ends, and waits for that end only before it returns.

The runner binds a datagram socket in its private (0700) folder of kernel sockets and passes
its path in the kernel's environment (:data:`ENV`: an ``NBPROD_`` variable, which a spare
takes at hand-over); the kernel sends one datagram to it. A notice that never comes (a kernel
killed, or dead of a crash) costs nothing: the runner waits on the kernel's pidfd too,
whichever comes first.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from pathlib import Path

ENV = "NBPROD_EXIT_NOTICE"
_NAME = "exit"


def listen(folder: Path) -> socket.socket | None:
    """A socket in ``folder`` (the runner's own) the kernel's notice arrives on; None if
    it cannot be made (a path too long for a Unix socket): then the runner waits for the
    kernel's end, as without a notice."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(str(folder / _NAME))
    except OSError:
        sock.close()
        return None
    sock.setblocking(False)
    return sock


def send(path: str | None) -> None:
    """From the kernel: its work is done. Best effort, never blocks, never raises."""
    if not path:
        return
    with contextlib.suppress(Exception), \
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        sock.sendto(b"done", path)


def wait(sock: socket.socket, pidfd: int | None, deadline: float) -> str | None:
    """Wait until the notice arrives on ``sock`` ("notice") or the kernel's ``pidfd`` says
    it ended without one ("ended"), or ``deadline`` (``time.monotonic``) passes (None). A
    kernel that sent its notice and ended since is "notice": the datagram stays queued."""
    watched: list[int | socket.socket] = [sock] if pidfd is None else [sock, pidfd]
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            ready, _, _ = select.select(watched, [], [], remaining)
        except (OSError, ValueError):
            return None
        if sock in ready or (pidfd is not None and pidfd in ready):
            try:
                sock.recv(64)
                return "notice"
            except BlockingIOError:  # no datagram: the kernel ended, or a spurious wake-up
                if pidfd is not None and pidfd in ready:
                    return "ended"
            except OSError:
                return None
