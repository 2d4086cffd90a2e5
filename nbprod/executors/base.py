"""The executor contract: run many independent tasks, report each as it ends.

An executor receives a picklable function and picklable tasks; it runs ``fn(task)`` somewhere
(forked local workers, a Dask cluster) and reports an :class:`~.forkpool.Outcome` per task, in
the order it ends, through ``on_done``. Who updates the registry: the task itself (the run
record is written by the process that runs it), so an executor only moves results back.
Built-ins and plugins register in the ``nbprod.executors`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from ..errors import SettingsError
from .forkpool import Outcome

T = TypeVar("T")
R = TypeVar("R")
GROUP = "nbprod.executors"


@runtime_checkable
class Executor(Protocol):
    name: str

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[tuple[str, Any]], *,
            timeout: float, on_done: Callable[[Outcome[Any]], None] | None = None,
            stop_when: Callable[[], bool] | None = None) -> list[Outcome[Any]]:
        """``fn(task)`` for each ``(key, task)``; outcomes in the order of ``tasks``.

        ``timeout`` is per task: a task still running that long after it started is
        reported as failed (an executor that cannot watch single tasks may apply
        ``timeout * len(tasks)`` to the whole call instead).
        """
        ...

    def close(self) -> None: ...


def load_executor(name: str, options: dict[str, Any]) -> Executor:
    """The executor called ``name`` (entry points), constructed with ``options``."""
    from importlib.metadata import entry_points

    found = {entry.name: entry for entry in entry_points(group=GROUP)}
    if name not in found:
        raise SettingsError(f"no executor named '{name}'",
                            hint=f"known: {', '.join(sorted(found)) or 'none installed'}")
    try:
        factory = found[name].load()
    except Exception as exc:  # a broken plugin is named, not a crash
        raise SettingsError(f"executor plugin {name} failed to load: {exc}") from exc
    executor: Executor = factory(**options)
    return executor
