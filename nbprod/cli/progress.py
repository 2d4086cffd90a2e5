"""Progress bars on stderr for long commands, shown only when stderr is a terminal: the cells
of a run (each step of a job run gets its own bar), and the points of a sweep or the notebooks
of ``nbprod test`` done of all."""

from __future__ import annotations

from typing import Any

from .. import api
from .render import console


def _bar(*columns: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(*columns, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console(stderr=True), transient=True)


class CellProgress(api.RunObserver):
    """Cell N of M of each run; with ``steps``, each run is named ``step k of n``."""

    def __init__(self, steps: int | None = None) -> None:
        from rich.progress import TextColumn

        self.progress = _bar(TextColumn("{task.description}"))
        self.steps = steps
        self.step = 0
        self.task: Any = None
        self.progress.start()

    def run_started(self, run_id: str, notebook: str, total_cells: int) -> None:
        self.step += 1
        self.name = f"step {self.step} of {self.steps} ({notebook})" if self.steps else notebook
        self.task = self.progress.add_task(f"{self.name}: starting kernel", total=None)

    def cell_started(self, index: int | None, total: int, label: str) -> None:
        if self.task is not None:
            where = f"cell {index}" if index is not None else "parameters"
            self.progress.update(self.task, total=total,
                                 description=f"{self.name}: {where}: {label[:40]}")

    def cell_finished(self, index: int | None, total: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task)

    def finishing(self) -> None:
        if self.task is not None:
            self.progress.update(self.task, description=f"{self.name}: storing artifacts")

    def close(self) -> None:
        self.progress.stop()


class CountProgress:
    """``label`` N of M done, and how many failed."""

    def __init__(self, label: str, total: int) -> None:
        from rich.progress import TextColumn

        self.progress = _bar(TextColumn(label), TextColumn("{task.description}"))
        self.failed = 0
        self.task = self.progress.add_task("", total=total)
        self.progress.start()

    def advance(self, failed: bool) -> None:
        self.failed += failed
        self.progress.update(self.task, advance=1,
                             description=f"{self.failed} failed" if self.failed else "")

    def close(self) -> None:
        self.progress.stop()
