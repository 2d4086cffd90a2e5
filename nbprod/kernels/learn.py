"""What a template learns from its kernels: the submodules they imported on first use.

A template preloads the modules a notebook imports by name. Running the cells imports more:
the parts of those libraries loaded on first use (pandas' HTML formatter when a DataFrame is
shown, scikit-learn's estimator repr, narwhals' pandas backend, pyarrow's pandas bridge).
Every kernel forked from the template imported them again: 60-80 ms of a small scikit-learn
notebook's cells, each run. So a forked kernel, as it exits, tells its template which
modules it imported that the template did not have, and the template imports them (between
requests, off any run's path) and forks its spare anew: the next kernel has them.

Only what cannot change what a kernel sees is learned: submodules (a dotted name) of
packages the template already holds, whose file is in the standard library or
site-packages (never a project's or an editable package's own code, which changes while
you work; the template's key follows installed distributions). A name that fails to import
is not tried again. If importing starts a thread (a fork of a process with threads is not
safe), the template writes the names to ``k-KEY.refused`` (never learned again) and exits:
the next run starts a fresh one.

Standard library only: this runs in the template and in its kernels as they exit.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import socket
import sys
from collections.abc import Iterable
from pathlib import Path

from .preload import install_roots, installed_file

MAX_NAMES = 2000  # per message: more is not a notebook's first-use imports
_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


class Known:
    """The module names a template holds, as its kernels inherit them: what a kernel
    imported beyond them is what it may report (see :func:`report`)."""

    names: frozenset[str] = frozenset()
    tops: frozenset[str] = frozenset()
    roots: tuple[str, ...] = ()  # install_roots(), worked out once in the template
    socket: str | None = None  # the template's socket, where kernels report

    @classmethod
    def update(cls, extra: Iterable[str] = ()) -> None:
        """Take the names in ``sys.modules`` now (and ``extra``: names not to report)."""
        cls.names = frozenset(sys.modules).union(extra)
        cls.tops = frozenset(name.partition(".")[0] for name in sys.modules)
        cls.roots = install_roots()


def first_use_imports() -> list[str]:
    """Modules this kernel imported that its template lacks and could learn."""
    found = [name for name, module in list(sys.modules.items())
             if name not in Known.names and _NAME.fullmatch(name)
             and name.partition(".")[0] in Known.tops
             and installed_file(getattr(module, "__file__", None), Known.roots)]
    return sorted(found)[:MAX_NAMES]


def report() -> None:
    """In a forked kernel as it exits: send the template what it could learn. Never raises
    and never waits long: the template may be gone or busy."""
    if Known.socket is None:
        return
    with contextlib.suppress(Exception):
        names = first_use_imports()
        if not names:
            return
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(0.5)
            conn.connect(Known.socket)
            conn.sendall((json.dumps({"op": "learn", "modules": names}) + "\n").encode())


def threads() -> int:
    """This process's threads, native ones included (an OpenBLAS pool is not in
    ``threading``)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


def refused_path(socket_path: Path) -> Path:
    return socket_path.with_suffix(".refused")


def read_refused(socket_path: Path) -> set[str]:
    try:
        data = json.loads(refused_path(socket_path).read_text())
    except (OSError, ValueError):
        return set()
    return {name for name in data if isinstance(name, str)} if isinstance(data, list) else set()


def learn(names: object, refused: set[str]) -> tuple[list[str], bool]:
    """Import what a kernel reported (in the template): (the names imported, whether the
    template is still safe to fork). Names that failed go to ``refused``, and all of them
    when the template is no longer safe (it then exits)."""
    if not isinstance(names, list):
        return [], True
    wanted = sorted({name for name in names[:MAX_NAMES]
                     if isinstance(name, str) and _NAME.fullmatch(name)
                     and name not in sys.modules and name not in refused
                     and name.partition(".")[0] in Known.tops})
    before = threads()
    learned, safe = [], True
    for name in wanted:
        if name in sys.modules:  # a parent imported it
            continue
        try:
            module = importlib.import_module(name)
        except BaseException:
            refused.add(name)
            continue
        learned.append(name)
        if not installed_file(getattr(module, "__file__", None), Known.roots):
            safe = False  # found elsewhere than in the kernel: not what kernels may inherit
    if threads() > before:
        safe = False
    if not safe:
        refused.update(wanted)  # which one did it is not known: none is learned again
    return learned, safe


def write_refused(socket_path: Path, refused: set[str]) -> None:
    path = refused_path(socket_path)
    tmp = path.with_suffix(".refused-tmp")
    with contextlib.suppress(OSError):
        tmp.write_text(json.dumps(sorted(refused)))
        os.replace(tmp, path)
