"""Share CPU-bound work with forked children, one per other core (``nbprod lint``, cold).

A child is forked (so it has every module, compiled validator and parsed notebook already),
computes its share, sends the pickled results through a pipe and exits; this process does the
first share meanwhile. A child that fails or dies costs only time: its share is then done
here. Nothing is forked on one core, for little work, or where ``os.fork`` is missing.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def share_count(items: int, *, workers: int | None = None, min_share: int = 16) -> int:
    """How many processes :func:`split_map` shares ``items`` things between."""
    if not hasattr(os, "fork"):
        return 1
    return max(1, min(workers or cores(), items // min_share))


def split_map(items: Sequence[T], work: Callable[[Sequence[T]], list[R]], *,
              then: Callable[[], object] | None = None, min_share: int = 16,
              workers: int | None = None) -> list[R]:
    """``work(items)``, its shares run at once on ``workers`` cores (default: all).

    ``then`` runs here once the children are forked (a thread must not be running when a
    process forks). The results keep the order of ``items``.
    """
    count = share_count(len(items), workers=workers, min_share=min_share)
    if count == 1:
        if then is not None:
            then()
        return work(items)
    size = -(-len(items) // count)
    shares = [items[start:start + size] for start in range(0, len(items), size)]
    children: list[tuple[int, int]] = []
    for share in shares[1:]:
        children.append(_fork(work, share, [reader for _pid, reader in children]))
    waiting = list(children)  # not yet collected: reaped if this process fails first
    try:
        if then is not None:
            then()
        results = work(shares[0])
        for share in shares[1:]:
            pid, reader = waiting.pop(0)
            results.extend(_collect(pid, reader, work, share))
    except BaseException:
        _abandon(waiting)
        raise
    return results


def _fork(work: Callable[[Sequence[T]], list[R]], share: Sequence[T],
          others: Sequence[int]) -> tuple[int, int]:
    """A child computing ``work(share)``; ``others``: the earlier children's pipes, which it
    closes (held open here, a pipe would not break when this process closes it)."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, exit without running this process's cleanup
        code = 0
        try:
            for other in (reader, *others):
                os.close(other)
            data = pickle.dumps(work(share), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(writer, "wb") as out:
                out.write(data)
        except BaseException:  # the parent redoes the share
            code = 1
        os._exit(code)
    os.close(writer)
    return pid, reader


def _abandon(children: Sequence[tuple[int, int]]) -> None:
    """Reap children whose results are no longer wanted (this process's share failed).
    With its pipe closed a child's write fails and it exits, after its share (and its ruff)
    are done; left alone it would block on the pipe for as long as this process lives (the
    Jupyter server's does)."""
    for pid, reader in children:
        os.close(reader)
        os.waitpid(pid, 0)


def _collect(pid: int, reader: int, work: Callable[[Sequence[T]], list[R]],
             share: Sequence[T]) -> list[R]:
    with os.fdopen(reader, "rb") as source:
        data = source.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0 and data:
        try:
            results: list[R] = pickle.loads(data)
            return results
        except (pickle.UnpicklingError, EOFError, ValueError):
            pass
    return work(share)
