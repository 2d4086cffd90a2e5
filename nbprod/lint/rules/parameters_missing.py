"""NBP101: the notebook has code but no cell tagged ``parameters``."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding


class MissingParametersCell:
    """A production notebook declares its inputs in one cell tagged ``parameters``.

    Without it, ``nbprod run -p`` (and papermill) have nowhere to inject values, and nothing
    documents what the notebook can be configured with. Tag the cell holding the defaults
    (JupyterLab: property inspector → Cell Tags → ``parameters``). ``nbprod lint --fix`` tags it
    when one cell at the top holds only literal assignments.

    Bad: a first code cell ``alpha = 0.5`` without the tag.
    Good: the same cell tagged ``parameters``, ideally typed: ``alpha: float = 0.5  # help``.
    """

    code = "NBP101"
    name = "missing-parameters-cell"
    severity: Severity = "warning"
    summary = "no cell is tagged 'parameters'"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        if notebook.code_cells and not notebook.parameters_cells:
            candidate = notebook.code_cells[0]
            yield finding(self, notebook, "no cell is tagged 'parameters': nbprod run -p and "
                          "papermill cannot set this notebook's inputs",
                          fixable=_looks_like_parameters(candidate.source))


# A line (outside a triple-quoted string) opening a statement that is not an assignment: a
# keyword, which no assignment begins with.
_STATEMENT = re.compile(r"^(?:import|from|def|class|for|while|if|with|try|async)\b", re.M)


def _looks_like_parameters(source: str) -> bool:
    """Whether a cell holds only literal assignments (so --fix may tag it)."""
    if _STATEMENT.search(source) and '"""' not in source and "'''" not in source:
        return False  # an import, a def, a loop...: no need to parse the cell to say so
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    if not tree.body:
        return False
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if value is None:
            return False
        try:
            ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False
    return True
