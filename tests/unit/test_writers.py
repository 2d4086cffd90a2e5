"""The threads that store a run's artifacts start with the run (nbprod/api/writers.py)."""

from __future__ import annotations

import threading
import time

import pytest

from nbprod.api.writers import Writers


def _named(prefix: str) -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.name.startswith(prefix))


def test_threads_start_before_any_work_and_end_when_closed() -> None:
    writers = Writers(3, "wtest-a")
    assert _named("wtest-a") == ["wtest-a_0", "wtest-a_1", "wtest-a_2"]
    writers.close()
    assert _named("wtest-a") == []


def test_results_and_errors_come_back_through_their_futures() -> None:
    writers = Writers(2, "wtest-b")
    try:
        done = writers.submit(lambda: 6 * 7)

        def fails() -> int:
            raise OSError(28, "No space left on device")

        failed = writers.submit(fails)
        assert done.result(timeout=10) == 42
        with pytest.raises(OSError, match="No space left"):
            failed.result(timeout=10)
    finally:
        writers.close()


def test_close_waits_for_what_was_submitted() -> None:
    writers = Writers(2, "wtest-c")
    finished: list[int] = []

    def slow(n: int) -> None:
        time.sleep(0.05)
        finished.append(n)

    futures = [writers.submit(lambda n=n: slow(n)) for n in range(6)]
    writers.close()
    assert sorted(finished) == list(range(6))
    assert all(f.done() for f in futures)

