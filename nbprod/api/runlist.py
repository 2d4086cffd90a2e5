"""Use case: list runs, newest first, as they are read (``nbprod runs``, ``--all --json``).

Both functions yield a page at a time from one registry snapshot, each run complete (its
artifacts' locations filled in as it is built), so a listing of 100,000 runs prints its first
row at once and holds one page in memory. :func:`runs_json` gives each run as the JSON of
``RunRecord.to_json()`` without building the records: what ``--json`` prints; for a command
on several cores it builds the older half of a long listing in a second process (two
snapshots then, one per half).
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import Callable, Iterable, Iterator

from .. import collector
from ..errors import InvalidInput
from ..records import RunRecord
from .project import Project


def iter_runs(project: Project, *, notebook: str | None = None, state: str | None = None,
              last: int | None = None) -> Iterator[RunRecord]:
    """Runs, newest first; runs whose runner vanished are reported ``lost``.

    ``notebook`` is a path or a name (resolved as ``nbprod run`` resolves it, else taken as
    given: a notebook that no longer exists); ``last`` keeps the newest that many.
    """
    yield from project.registry.iter_runs(notebook=_notebook(project, notebook), state=state,
                                          limit=last, locate=project.store.location)


def runs_json(project: Project, *, notebook: str | None = None, state: str | None = None,
              last: int | None = None, processes: int = 1) -> Iterator[bytes]:
    """:func:`iter_runs`, each run as the JSON (UTF-8) of its ``to_json()``.

    With ``processes`` > 1 (a command's own process: it forks) and many runs, a child
    process builds the older half into a temporary file while this one yields the newer
    half, then the child's lines: all of them in order, each run once, in half the time.
    The halves are read in two snapshots (a run that finishes meanwhile may show as running);
    a child that fails costs only time: its half is then built here.
    """
    name = _notebook(project, notebook)
    registry, locate = project.registry, project.store.location
    split = registry.split_point(notebook=name, state=state, at_least=_SPLIT_FROM) \
        if processes > 1 and last is None and hasattr(os, "fork") else None
    if split is None:
        yield from registry.iter_run_json(notebook=name, state=state, limit=last,
                                          locate=locate)
        return
    url, timeout = project.registry_url, project.busy_timeout

    def older() -> Iterator[bytes]:  # in the child: a registry connection of its own
        from ..registry import Registry

        child = Registry.open(url, busy_timeout=timeout)
        yield from child.iter_run_json(notebook=name, state=state, locate=locate,
                                       before=split)

    background = _Background(older)
    try:
        yield from registry.iter_run_json(notebook=name, state=state, locate=locate,
                                          since=split)
        yield from background.lines(lambda: registry.iter_run_json(
            notebook=name, state=state, locate=locate, before=split))
    finally:
        background.stop()


_SPLIT_FROM = 5000  # runs; below this a second process costs more than it saves


class _Background:
    """Lines made by ``produce`` in a forked child, into an unlinked temporary file."""

    def __init__(self, produce: Callable[[], Iterable[bytes]]) -> None:
        self.out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.pid: int | None = os.fork()
        if self.pid == 0:  # the child: write, exit without this process's cleanup
            code = 0
            try:
                with collector.paused():
                    for line in produce():
                        self.out.write(line + b"\n")  # JSON text holds no raw newline
                self.out.flush()
            except BaseException:
                code = 1
            os._exit(code)

    def lines(self, again: Callable[[], Iterable[bytes]]) -> Iterator[bytes]:
        """The child's lines once it has exited, else ``again()`` (it failed)."""
        assert self.pid is not None
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        if os.waitstatus_to_exitcode(status) != 0:
            yield from again()
            return
        self.out.seek(0)
        for line in self.out:
            yield line.rstrip(b"\n")

    def stop(self) -> None:
        """Stop and reap the child if it still runs (the reader stopped: Ctrl-C, a closed
        pipe), and drop the file."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = None
        self.out.close()


def _notebook(project: Project, notebook: str | None) -> str | None:
    """Reap lost runs first; then the notebook filter as the registry holds notebooks."""
    project.reap_lost()
    if notebook:
        try:
            path, _ = project.resolve_notebook(notebook)
            return project.relative(path)
        except InvalidInput:
            pass  # filter by the text given (a notebook that no longer exists)
    return notebook
