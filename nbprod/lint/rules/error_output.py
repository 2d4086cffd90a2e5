"""NBP202: a saved error output (the notebook was committed after failing)."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding

_MAX_SHOWN = 80


class ErrorOutput:
    """A notebook should not be saved with an exception in its outputs.

    An ``error`` output means the cell raised the last time it ran: either the notebook is
    broken, or it was fixed afterwards and the stale traceback is misleading (and may leak
    paths, data or credentials from the author's machine). Fix the cell and re-run the
    notebook, or clear outputs (``nbprod lint --fix``).

    Bad:  a cell showing ``KeyError: 'price'`` with its traceback.
    Good: the same notebook re-run cleanly, or saved without outputs.
    """

    code = "NBP202"
    name = "error-output"
    severity: Severity = "warning"
    summary = "a cell is saved with an error output"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        for cell in notebook.code_cells:
            for output in cell.outputs:
                if output.get("output_type") == "error":
                    ename = str(output.get("ename") or "error")
                    evalue = " ".join(str(output.get("evalue") or "").split())
                    if len(evalue) > _MAX_SHOWN:
                        evalue = evalue[:_MAX_SHOWN] + "…"
                    shown = f"{ename}: {evalue}" if evalue else ename
                    yield finding(self, notebook, f"saved error output {shown}",
                                  cell=cell.index, fixable=True)
                    break
