"""Run independent tasks in forked worker processes, a few at a time, each with a deadline.

The parent imports the heavy libraries once (pytest, nbval, papermill, nbconvert, SQLAlchemy)
and forks a fresh child per task: the child starts with everything loaded, runs one task,
sends its result back through a pipe and exits. A child that overruns its deadline is killed
(with its process group); one that dies without answering is reported with its exit status.
Children write their stdout/stderr to a log file, so parallel tasks do not interleave on the
terminal.

Linux only (``fork``). The parent must not hold threads, event loops or open database
connections when it forks: callers fork before opening any.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Task(Generic[T]):
    key: str
    run: Callable[[], T]
    timeout: float
    log: Path | None = None


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """How a task ended: a value, or an error text, a timeout or a vanished child."""

    key: str
    value: T | None = None
    error: str | None = None
    timed_out: bool = False
    exit_code: int | None = None
    seconds: float = 0.0
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return (self.error is None and not self.timed_out and not self.skipped
                and self.exit_code in (None, 0))


@dataclass
class _Running:
    task: Task[Any]
    process: Any  # multiprocessing.Process (fork context)
    conn: Connection
    started: float


def run_forked(tasks: Sequence[Task[T]], *, workers: int,
               on_done: Callable[[Outcome[T]], None] | None = None) -> list[Outcome[T]]:
    """Run ``tasks`` at most ``workers`` at a time; outcomes in the order of ``tasks``."""
    context = multiprocessing.get_context("fork")
    pending = list(tasks)
    running: dict[str, _Running] = {}
    outcomes: dict[str, Outcome[T]] = {}
    try:
        while pending or running:
            while pending and len(running) < max(1, workers):
                task = pending.pop(0)
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(target=_child, args=(task, sender),
                                          name=f"nbprod-{task.key}", daemon=False)
                process.start()
                sender.close()
                running[task.key] = _Running(task, process, receiver, time.monotonic())
            _collect(running, outcomes, on_done)
    finally:
        for item in running.values():  # interrupted (Ctrl-C): leave no child behind
            _kill(item.process.pid)
            item.process.join(timeout=5)
    return [outcomes[t.key] for t in tasks]


def _collect(running: dict[str, _Running], outcomes: dict[str, Outcome[Any]],
             on_done: Callable[[Outcome[Any]], None] | None) -> None:
    now = time.monotonic()
    deadline = min(r.started + r.task.timeout for r in running.values())
    handles = [r.conn for r in running.values()] + [r.process.sentinel for r in running.values()]
    ready = set(wait(handles, timeout=max(0.0, deadline - now)))
    for key, item in list(running.items()):
        outcome: Outcome[Any] | None = None
        elapsed = time.monotonic() - item.started
        if item.conn in ready or item.process.sentinel in ready:
            outcome = _finished(item, elapsed)
        elif elapsed >= item.task.timeout:
            _kill(item.process.pid)
            item.process.join(timeout=5)
            outcome = Outcome(key, timed_out=True, seconds=elapsed,
                              error=f"did not finish within {item.task.timeout:g} s")
        if outcome is not None:
            item.conn.close()
            del running[key]
            outcomes[key] = outcome
            if on_done is not None:
                on_done(outcome)


def _finished(item: _Running, elapsed: float) -> Outcome[Any]:
    key = item.task.key
    try:
        status, payload = item.conn.recv() if item.conn.poll(0.5) else (None, None)
    except (EOFError, OSError):
        status, payload = None, None
    item.process.join(timeout=10)
    if status == "ok":
        return Outcome(key, value=payload, seconds=elapsed)
    if status == "error":
        return Outcome(key, error=str(payload), seconds=elapsed)
    code = item.process.exitcode
    phrase = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else \
        f"exit code {code}"
    return Outcome(key, error=f"the worker process died ({phrase}) before answering",
                   exit_code=code, seconds=elapsed)


def _child(task: Task[Any], conn: Connection) -> None:
    os.setsid()  # its own process group: a timeout kills it and what it spawned
    if task.log is not None:
        fd = os.open(task.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    try:
        conn.send(("ok", task.run()))
    except BaseException:
        conn.send(("error", traceback.format_exc(limit=20)))
    finally:
        conn.close()


def _kill(pid: int | None) -> None:
    """SIGKILL the child's process group (it called setsid), else the child alone."""
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
        return
    except (ProcessLookupError, PermissionError):
        pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def run_pooled(fn: Callable[[Any], Any], tasks: Sequence[tuple[str, Any]], *, workers: int,
               timeout: float, on_done: Callable[[Outcome[Any]], None] | None = None,
               stop_when: Callable[[], bool] | None = None) -> list[Outcome[Any]]:
    """Like :func:`run_forked`, but each forked worker runs many tasks in turn.

    ``fn`` is called in the workers with each task; whatever ``fn`` keeps between calls (an
    open database engine, say) is reused by that worker. A worker that overruns a task's
    deadline is killed, its task reported timed out, and a fresh worker forked.
    """
    context = multiprocessing.get_context("fork")
    pending = list(tasks)
    idle: list[_Worker] = []
    busy: dict[int, tuple[_Worker, str, float]] = {}
    outcomes: dict[str, Outcome[Any]] = {}
    count = max(1, min(workers, len(pending)))
    pool = [_Worker.start(context, fn) for _ in range(count)]
    idle.extend(pool)

    def finish(outcome: Outcome[Any]) -> None:
        outcomes[outcome.key] = outcome
        if on_done is not None:
            on_done(outcome)

    try:
        while pending or busy:
            if stop_when is not None and pending and stop_when():
                for key, _task in pending:
                    finish(Outcome(key, skipped=True, error="not started: stopped early"))
                pending = []
            while pending and idle:
                worker = idle.pop()
                key, task = pending.pop(0)
                worker.conn.send((key, task))
                busy[worker.process.pid] = (worker, key, time.monotonic())
            if not busy:
                break
            deadline = min(started + timeout for _w, _k, started in busy.values())
            handles = [w.conn for w, _k, _s in busy.values()] + \
                [w.process.sentinel for w, _k, _s in busy.values()]
            ready = set(wait(handles, timeout=max(0.0, deadline - time.monotonic())))
            for pid, (worker, key, started) in list(busy.items()):
                elapsed = time.monotonic() - started
                if worker.conn in ready:
                    try:
                        status, payload = worker.conn.recv()
                    except (EOFError, OSError):
                        status, payload = None, None
                    if status is not None:
                        del busy[pid]
                        finish(Outcome(key, value=payload, seconds=elapsed) if status == "ok"
                               else Outcome(key, error=str(payload), seconds=elapsed))
                        idle.append(worker)
                        continue
                if worker.process.sentinel in ready or worker.conn in ready:
                    del busy[pid]
                    worker.process.join(timeout=5)
                    code = worker.process.exitcode
                    finish(Outcome(key, error=f"the worker process died (exit {code}) while "
                                              "running this task", exit_code=code,
                                   seconds=elapsed))
                    if pending:
                        idle.append(_Worker.start(context, fn))
                elif elapsed >= timeout:
                    del busy[pid]
                    _kill(worker.process.pid)
                    worker.process.join(timeout=5)
                    finish(Outcome(key, timed_out=True, seconds=elapsed,
                                   error=f"did not finish within {timeout:g} s"))
                    if pending:
                        idle.append(_Worker.start(context, fn))
    finally:
        for worker in idle:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in [*idle, *(w for w, _k, _s in busy.values())]:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                _kill(worker.process.pid)
                worker.process.join(timeout=5)
    return [outcomes[key] for key, _task in tasks]


@dataclass
class _Worker:
    process: Any
    conn: Connection

    @classmethod
    def start(cls, context: Any, fn: Callable[[Any], Any]) -> _Worker:
        parent, child = context.Pipe(duplex=True)
        process = context.Process(target=_serve, args=(fn, child), name="nbprod-worker",
                                  daemon=False)
        process.start()
        child.close()
        return cls(process, parent)


def _serve(fn: Callable[[Any], Any], conn: Connection) -> None:
    os.setsid()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        _key, task = message
        try:
            conn.send(("ok", fn(task)))
        except BaseException:
            conn.send(("error", traceback.format_exc(limit=20)))
