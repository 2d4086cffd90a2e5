"""The threads executor keeps the executor contract: an outcome per task in the order of the
tasks, errors as text, at most ``workers`` at once, no new task once ``stop_when`` says so,
``on_done`` on the caller's thread."""

from __future__ import annotations

import threading
import time

from nbprod.executors.base import load_executor
from nbprod.executors.forkpool import Outcome
from nbprod.executors.threads import ThreadExecutor


def test_outcomes_errors_and_the_caller_s_thread() -> None:
    seen: list[tuple[str, bool]] = []

    def work(n: int) -> int:
        if n == 2:
            raise ValueError("two is wrong")
        time.sleep(0.05 * (3 - n))
        return n * 10

    def done(outcome: Outcome[int]) -> None:
        seen.append((outcome.key, threading.current_thread() is caller))

    caller = threading.current_thread()
    outcomes = ThreadExecutor(workers=2).run(work, [("a", 0), ("b", 1), ("c", 2)], timeout=5,
                                             on_done=done)
    assert [o.key for o in outcomes] == ["a", "b", "c"]
    assert [o.value for o in outcomes[:2]] == [0, 10] and all(o.ok for o in outcomes[:2])
    assert not outcomes[2].ok and outcomes[2].error == "ValueError: two is wrong"
    assert sorted(k for k, _ in seen) == ["a", "b", "c"] and all(same for _, same in seen)


def test_at_most_workers_at_once_and_stop_when() -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def work(_: int) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    ThreadExecutor(workers=2).run(work, [(str(i), i) for i in range(6)], timeout=5)
    assert most == 2
    finished: list[str] = []
    outcomes = ThreadExecutor(workers=1).run(
        work, [(str(i), i) for i in range(4)], timeout=5,
        on_done=lambda o: finished.append(o.key), stop_when=lambda: len(finished) >= 2)
    assert [o.skipped for o in outcomes] == [False, False, True, True]


def test_it_registers_as_an_entry_point() -> None:
    executor = load_executor("threads", {"workers": 3, "scheduler": None})
    assert isinstance(executor, ThreadExecutor) and executor.workers == 3
    assert executor.in_process
