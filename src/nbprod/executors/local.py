"""The local executor: forked worker processes on this machine (the default).

Each task runs in a child forked from this process after the caller has imported and warmed
everything it needs, at most ``workers`` at a time (default: the number of cores).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from .forkpool import Outcome, Task, run_forked


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int | None = None, **_ignored: Any) -> None:
        self.workers = workers or max(1, len(os.sched_getaffinity(0)))

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[tuple[str, Any]], *,
            timeout: float, on_done: Callable[[Outcome[Any]], None] | None = None,
            stop_when: Callable[[], bool] | None = None) -> list[Outcome[Any]]:
        jobs = [Task(key, _bind(fn, task), timeout) for key, task in tasks]
        return run_forked(jobs, workers=self.workers, on_done=on_done, stop_when=stop_when)

    def close(self) -> None:
        pass


def _bind(fn: Callable[[Any], Any], task: Any) -> Callable[[], Any]:
    return lambda: fn(task)
