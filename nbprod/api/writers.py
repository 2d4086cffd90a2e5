"""The threads that store a run's artifacts, started with the run.

A ``ThreadPoolExecutor`` starts its threads on the first submissions, which for a run come
together once its last cell has finished: each start then waited for the new thread to get
the interpreter from the threads already writing and the report being rendered (~4 ms of a
run's path on this machine). These threads start when the run does, while nothing else of
the run competes, and wait for work.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


class Writers:
    """``count`` threads running submitted calls in order of submission, as a pool does."""

    def __init__(self, count: int, name: str) -> None:
        self._work: queue.SimpleQueue[tuple[Future[object], Callable[[], object]] | None] = \
            queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._serve, name=f"{name}_{n}", daemon=True)
                         for n in range(count)]
        for thread in self._threads:
            thread.start()

    def submit(self, call: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._work.put((future, call))  # type: ignore[arg-type]
        return future

    def close(self) -> None:
        """Run what was submitted, then end the threads (waits for both)."""
        for _ in self._threads:
            self._work.put(None)
        for thread in self._threads:
            thread.join()

    def _serve(self) -> None:
        while (item := self._work.get()) is not None:
            future, call = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = call()
            except BaseException as exc:  # the caller's, raised where it waits
                future.set_exception(exc)
            else:
                future.set_result(result)
