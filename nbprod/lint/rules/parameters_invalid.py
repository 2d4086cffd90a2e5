"""NBP106: the parameters cell holds something other than literal assignments."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding

_LINE = re.compile(r"line (\d+)")


class InvalidParametersCell:
    """The parameters cell must declare plain-data parameters only.

    ``nbprod run`` parses it into a typed contract: each statement must be
    ``name: type = literal`` or ``name = literal`` with str, int, float, bool, None, or lists
    and dicts of those. Imports, calls (``pd.Timestamp(...)``), unpacking and unknown
    annotations (``Path``) are refused unless the run passes ``--no-strict``. Move computed
    values to the next cell, derived from the plain parameters.

    Bad:  ``start = pd.Timestamp("2024-01-01")`` in the parameters cell.
    Good: ``start: str = "2024-01-01"`` there, and ``start_ts = pd.Timestamp(start)`` in the
          next cell.
    """

    code = "NBP106"
    name = "invalid-parameters-cell"
    severity: Severity = "error"
    summary = "the parameters cell is not a plain-data contract"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        error = notebook.strict_contract_error()
        if error is None:
            return
        cell = notebook.parameters_cells[0]
        match = _LINE.search(error.reason)
        reason = error.reason.split(": ", 1)[-1] if ": " in error.reason else error.reason
        yield finding(self, notebook, reason, cell=cell.index,
                      line=int(match.group(1)) if match else None)
