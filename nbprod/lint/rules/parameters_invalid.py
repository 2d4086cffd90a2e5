"""NBP106: the parameters cell cannot be read, or a default contradicts its annotation."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding

_LINE = re.compile(r"line (\d+)")


class InvalidParametersCell:
    """The parameters cell must parse, and each literal default must fit its annotation.

    ``nbprod run`` reads the cell into a typed contract. It accepts what papermill runs
    (imports, computed defaults: see NBP107 and NBP108), but refuses two things before any
    kernel starts: a syntax error, and (unless the run passes ``--no-strict``) a literal
    default that contradicts its own annotation — the annotation is what ``-p`` values are
    checked against, so one of the two is wrong.

    Bad:  ``n_rows: int = "all"``
    Good: ``n_rows: int | None = None  # None reads all rows``
    """

    code = "NBP106"
    name = "invalid-parameters-cell"
    severity: Severity = "error"
    summary = "the parameters cell does not parse, or a default contradicts its annotation"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        error = notebook.strict_contract_error()
        if error is None:
            return
        cell = notebook.parameters_cells[0]
        match = _LINE.search(error.reason)
        reason = error.reason.split(": ", 1)[-1] if ": " in error.reason else error.reason
        yield finding(self, notebook, reason, cell=cell.index,
                      line=int(match.group(1)) if match else None)
