"""The entry points of a plugin group (lint rules, promotion gates), read once per install state.

``importlib.metadata.entry_points`` reads every installed distribution's metadata on each call
(20-50 ms with a few hundred distributions), which every ``nbprod lint`` and ``nbprod promote``
paid. The list is kept per process, with the modification times of ``sys.path``'s folders:
installing, upgrading or removing a distribution rewrites its ``*.dist-info`` folder, which
changes its ``site-packages`` folder's time, so the next call reads the metadata again. A
folder changed in the last two seconds is not trusted (as git treats a "racy" index): a change
within the same clock tick would leave its time as it was. The warm nbprod reads the groups
once; each command it forks checks the times (a few ``stat`` calls) and loads the plugins
itself.
"""

from __future__ import annotations

import os
import sys
import time
from importlib.metadata import EntryPoint, entry_points

_State = tuple[tuple[str, int], ...]
_SEEN: dict[str, tuple[_State, tuple[EntryPoint, ...]]] = {}
_SETTLED_NS = 2_000_000_000  # a folder's time older than this is kept


def group(name: str) -> tuple[EntryPoint, ...]:
    """The entry points of group ``name`` installed now, in metadata order."""
    state = _install_state()
    seen = _SEEN.get(name)
    if seen is not None and seen[0] == state:
        return seen[1]
    found = tuple(entry_points(group=name))
    settled = time.time_ns() - _SETTLED_NS
    if all(mtime < settled for _path, mtime in state):
        _SEEN[name] = (state, found)
    return found


def _install_state() -> _State:
    """Each ``sys.path`` entry with its modification time (-1: not there)."""
    state = []
    for entry in sys.path:
        try:
            state.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            state.append((entry, -1))
    return tuple(state)
