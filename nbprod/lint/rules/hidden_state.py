"""NBP201: execution counts out of order (the saved notebook was not run top to bottom)."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding


class HiddenState:
    """A saved notebook should have been run top to bottom, once.

    When the execution counts of the code cells are not strictly increasing from top to
    bottom (``[3]`` above ``[2]``), or some cells ran and others did not, the saved outputs
    came from a different order than the one a scheduler runs: a cell may depend on a
    variable that a later or deleted cell defined, and the notebook may fail (or give other
    numbers) when run fresh. Restart the kernel and run all, or clear the outputs
    (``nbprod lint --fix``), before committing.

    Bad:  cells executed as ``[2]``, ``[1]``, ``[5]``.
    Good: ``[1]``, ``[2]``, ``[3]`` (Restart & Run All), or no outputs at all.
    """

    code = "NBP201"
    name = "hidden-state"
    severity: Severity = "warning"
    summary = "execution counts are out of order or incomplete"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        cells = [c for c in notebook.code_cells if c.source.strip()]
        if all(c.execution_count is None for c in cells):
            return
        previous: int | None = None
        for cell in cells:
            count = cell.execution_count
            if count is None:
                yield finding(self, notebook, f"cell {cell.index} was not run but others were: "
                              "the saved outputs do not come from one top-to-bottom run; "
                              "restart and run all, or clear outputs", cell=cell.index,
                              fixable=True)
                return
            if previous is not None and count <= previous:
                yield finding(self, notebook, f"execution counts out of order: cell "
                              f"{cell.index} ran as [{count}] after [{previous}]; restart and "
                              "run all, or clear outputs", cell=cell.index, fixable=True)
                return
            previous = count
