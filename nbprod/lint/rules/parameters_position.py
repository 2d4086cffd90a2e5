"""NBP103: the parameters cell comes after computation (or after many code cells)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding

_MAX_CELLS_BEFORE = 3
_IMPORT = re.compile(r"(?:import\s|from\s+\S+\s+import\b)")
_DOCSTRING = re.compile(r"""(?:[rRuU]?)(\"\"\"|'''|"|')""")


class ParametersCellNotAtTop:
    """The parameters cell should come before any computation.

    papermill and ``nbprod run -p`` inject the run's values in a new cell right after the
    cell tagged ``parameters``. Code above it runs with the notebook's defaults, not with the
    values passed: a path, seed or date computed there silently ignores ``-p``, and readers
    have to scroll to find the notebook's inputs. Only imports, comments, docstrings and
    magics (``%matplotlib inline``) belong above the parameters cell, in at most 3 code cells.

    Bad:  cell 1 ``df = load(2023)``, then the parameters cell ``year: int = 2024``.
    Good: the parameters cell first (after imports at most), then ``df = load(year)``.
    """

    code = "NBP103"
    name = "parameters-cell-not-at-top"
    severity: Severity = "warning"
    summary = "the parameters cell comes after computation"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        tagged = notebook.parameters_cells
        if not tagged:
            return
        target = tagged[0]
        before = [c for c in notebook.cells[:target.index] if c.is_code and c.source.strip()]
        if len(before) > _MAX_CELLS_BEFORE:
            yield finding(self, notebook, f"the parameters cell comes after {len(before)} code "
                          f"cells; move it up (at most {_MAX_CELLS_BEFORE} cells of imports "
                          "before it)", cell=target.index)
            return
        for cell in before:
            line = _first_computation(cell.source)
            if line is not None:
                yield finding(self, notebook, f"the parameters cell comes after computation "
                              f"(cell {cell.index} line {line}), which runs with the defaults, "
                              "not the values passed with -p; move it up", cell=target.index)
                return


def _first_computation(source: str) -> int | None:
    """The first line that is not an import, comment, docstring, magic or blank; or None."""
    closing: str | None = None  # the quote ending an open docstring
    continued = ""  # ")" inside a parenthesised import, "\\" after a backslash
    for number, raw in enumerate(source.splitlines(), start=1):
        line = raw.strip()
        if closing is not None:
            if closing in line:
                closing = None
            continue
        if continued:
            continued = ("" if ")" in line else ")") if continued == ")" else (
                "\\" if line.endswith("\\") else "")
            continue
        if not line or line.startswith(("#", "%", "!")):
            continue
        if _IMPORT.match(line):
            continued = ")" if "(" in line and ")" not in line else (
                "\\" if line.endswith("\\") else "")
            continue
        quote = _DOCSTRING.match(line)
        if quote is not None:
            mark = quote.group(1)
            rest = line[quote.end():]
            if len(mark) == 3 and mark not in rest:
                closing = mark
                continue
            if rest.rstrip().endswith(mark):
                continue
        return number
    return None
