"""The next command's process, forked ahead by the warm nbprod.

A command forked from the warm nbprod shares its memory copy-on-write: the first write to each
shared page (a reference count changing is a write) costs a page fault and a copy, about 9,000
of them in a ``nbprod run`` (30-40 ms of system time), besides caches filled on first use. The
spare is forked while no command runs. It rehearses what commands do that needs no project
(the registry's run path on a throwaway database, reading, writing and rendering a notebook),
so that those faults are taken ahead; collects and freezes its garbage; says it is ready; and
waits on its channel for one request: the launcher's connection, its three terminal
descriptors and the request line, passed by the warm nbprod. It then runs the command as a
child forked for it would. A spare not ready yet is not used (the command gets a fresh fork),
and one that is not needed exits when its channel closes.
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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_READY = b"ready\n"


@dataclass
class Spare:
    pid: int
    channel: socket.socket
    ready: bool = False

    def is_ready(self) -> bool:
        """Whether it has rehearsed and waits (never blocks)."""
        if not self.ready:
            with contextlib.suppress(OSError, ValueError):
                if select.select([self.channel], [], [], 0)[0]:
                    self.ready = self.channel.recv(len(_READY)) == _READY
        return self.ready

    def take(self, line: bytes, fds: list[int]) -> bool:
        """Hand it the request (``fds``: stdin, stdout, stderr, the launcher's connection);
        False if it is gone, and the caller forks a child instead."""
        try:
            sent = socket.send_fds(self.channel, [line], fds)
            if sent < len(line):
                self.channel.sendall(line[sent:])
        except OSError:
            return False
        finally:
            self.channel.close()
        return True

    def discard(self) -> None:
        self.channel.close()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGKILL)


def start(close_in_child: Callable[[], None], rehearse: Callable[[], None],
          run: Callable[[socket.socket, list[int], dict[str, Any]], None]) -> Spare:
    """Fork a spare: in the child ``close_in_child`` (the warm nbprod's listener), then
    ``rehearse``; once a request comes, ``run(connection, [stdin, stdout, stderr], request)``,
    which never returns."""
    ours, theirs = socket.socketpair()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            close_in_child()
            ours.close()
            with contextlib.suppress(Exception):  # a failed rehearsal only costs time
                rehearse()
            gc.collect()
            gc.freeze()
            theirs.sendall(_READY)
            got = _receive(theirs)
            theirs.close()
            if got is not None:
                connection, fds, request = got
                run(connection, fds, request)
        finally:
            os._exit(0)
    theirs.close()
    return Spare(pid, ours)


def _receive(channel: socket.socket) -> tuple[socket.socket, list[int], dict[str, Any]] | None:
    """The request the warm nbprod handed over, or None (channel closed, or malformed)."""
    try:
        data, fds, _flags, _addr = socket.recv_fds(channel, 1 << 20, 4)
        while data and not data.endswith(b"\n"):
            more = channel.recv(1 << 20)
            if not more:
                break
            data += more
        request = json.loads(data) if data else None
    except (OSError, ValueError):
        return None
    if request is None or len(fds) != 4:
        for fd in fds:
            os.close(fd)
        return None
    return socket.socket(fileno=fds[3]), fds[:3], request
