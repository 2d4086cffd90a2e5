"""The peak memory of a benchmark's whole process tree, sampled from /proc while it runs.

The tree is every process started with this benchmark's runtime folder in its environment
(``XDG_RUNTIME_DIR``, which :func:`_common.bench_runtime` sets and every command inherits):
the commands the benchmark runs and their children, and the kernel templates and warm nbprod
they started, which leave their parent's session but are still the work's memory. The
benchmark's own process is left out.

Two sums are kept: RSS, which counts a page once per process mapping it (so forked kernels
sharing their template's pages count them many times), and PSS (``smaps_rollup``), which
splits a shared page between the processes sharing it: the memory the tree really uses.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from types import TracebackType

_INTERVAL = 0.05  # seconds between samples
_RECHECK = 1.0  # seconds before a process found outside the tree is looked at again


class TreeMemory:
    """``with TreeMemory(marker) as mem: ...``; then ``mem.peak_pss`` / ``mem.peak_rss``
    (bytes) of the processes whose environment holds ``marker`` (a ``NAME=value`` string)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker.encode()
        self.peak_pss = 0
        self.peak_rss = 0
        self._members: dict[int, tuple[bool, float]] = {}  # pid -> (member, when seen)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def _sample_until_stopped(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(_INTERVAL):
                self.sample()
                return

    def sample(self) -> None:
        pss = rss = 0
        alive = set()
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            alive.add(pid)
            if pid == os.getpid() or not self._member(pid):
                continue
            got = _rollup(pid)
            pss += got[0]
            rss += got[1]
        for gone in set(self._members) - alive:
            del self._members[gone]
        self.peak_pss = max(self.peak_pss, pss)
        self.peak_rss = max(self.peak_rss, rss)

    def _member(self, pid: int) -> bool:
        """Whether ``pid`` is in the tree. A "no" is asked again a second later: a process
        forked by the benchmark shows the benchmark's environment until it execs."""
        known, seen = self._members.get(pid, (False, 0.0))
        if known or time.monotonic() - seen < _RECHECK:
            return known
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            return False
        known = self.marker in environ.split(b"\0")
        self._members[pid] = (known, time.monotonic())
        return known


def _rollup(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in bytes; zeros if it is gone."""
    pss = rss = 0
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            pss = int(line.split()[1]) * 1024
        elif line.startswith("Rss:"):
            rss = int(line.split()[1]) * 1024
    return pss, rss
