"""The local executor: forked worker processes on this machine (the default).

``workers`` children (default: the number of cores) are forked from this process after the
caller has imported and warmed everything it needs; each runs tasks one after the other,
keeping what the task function caches (an open project) between them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from .forkpool import Outcome, run_pooled


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int | None = None, **_ignored: Any) -> None:
        self.workers = workers or max(1, len(os.sched_getaffinity(0)))

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[tuple[str, Any]], *,
            timeout: float, on_done: Callable[[Outcome[Any]], None] | None = None,
            stop_when: Callable[[], bool] | None = None) -> list[Outcome[Any]]:
        return run_pooled(fn, tasks, workers=self.workers, timeout=timeout, on_done=on_done,
                          stop_when=stop_when)

    def close(self) -> None:
        pass

