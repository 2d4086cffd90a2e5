"""NBP102: more than one cell is tagged ``parameters``."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding


class MultipleParametersCells:
    """Only one cell may be tagged ``parameters``.

    papermill injects after the first tagged cell and ignores the others, so values assigned
    in a later tagged cell silently override what was passed with ``-p``; ``nbprod run``
    refuses such a notebook. Merge the cells, or remove the tag from all but one.

    Bad:  cell 1 ``alpha: float = 0.5`` and cell 4 ``epochs: int = 10``, both tagged.
    Good: one tagged cell declaring ``alpha`` and ``epochs``.
    """

    code = "NBP102"
    name = "multiple-parameters-cells"
    severity: Severity = "error"
    summary = "more than one cell is tagged 'parameters'"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        tagged = notebook.parameters_cells
        for cell in tagged[1:]:
            yield finding(self, notebook, f"cell {cell.index} is also tagged 'parameters' "
                          f"(first: cell {tagged[0].index}); keep one", cell=cell.index)
