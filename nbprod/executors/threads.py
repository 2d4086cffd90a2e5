"""The threads executor: tasks on threads of this process, for callers that must not fork.

A Jupyter server and an IPython kernel hold zmq sockets, an event loop and threads of their
own; forking them for workers (the local executor) is not safe. Here each task runs on a
thread, ``workers`` at a time. A task is a whole run (its kernel is another process), so the
threads mostly wait; a run's own timeouts (kernel start, each cell, the whole run) bound how
long a thread can take, as a thread cannot be killed.
"""

from __future__ import annotations

import concurrent.futures
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from .forkpool import Outcome


class ThreadExecutor:
    name = "threads"
    in_process = True  # tasks may use the caller's open objects (run_sweep's project)

    def __init__(self, workers: int | None = None, **_ignored: Any) -> None:
        self.workers = workers or max(1, len(os.sched_getaffinity(0)))

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[tuple[str, Any]], *,
            timeout: float, on_done: Callable[[Outcome[Any]], None] | None = None,
            stop_when: Callable[[], bool] | None = None) -> list[Outcome[Any]]:
        """``fn(task)`` on threads; ``on_done`` is called on the caller's thread."""
        pending = list(tasks)
        outcomes: dict[str, Outcome[Any]] = {}
        running: dict[concurrent.futures.Future[Any], tuple[str, float]] = {}

        def finish(outcome: Outcome[Any]) -> None:
            outcomes[outcome.key] = outcome
            if on_done is not None:
                on_done(outcome)

        with concurrent.futures.ThreadPoolExecutor(
                max(1, min(self.workers, len(pending))), thread_name_prefix="nbprod-point") as pool:
            while pending or running:
                if stop_when is not None and pending and stop_when():
                    for key, _task in pending:
                        finish(Outcome(key, skipped=True, error="not started: stopped early"))
                    pending = []
                while pending and len(running) < self.workers:
                    key, task = pending.pop(0)
                    running[pool.submit(fn, task)] = (key, time.monotonic())
                if not running:
                    break
                done, _ = concurrent.futures.wait(
                    running, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    key, started = running.pop(future)
                    finish(_outcome(key, future, time.monotonic() - started))
        return [outcomes[key] for key, _task in tasks]

    def close(self) -> None:
        pass


def _outcome(key: str, future: concurrent.futures.Future[Any], seconds: float) -> Outcome[Any]:
    error = future.exception()
    if error is not None:
        return Outcome(key, error=f"{type(error).__name__}: {error}"[:500], seconds=seconds)
    return Outcome(key, value=future.result(), seconds=seconds)
