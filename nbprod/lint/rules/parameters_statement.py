"""NBP108: the parameters cell holds statements that are not typed parameter declarations."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity
from ._advisories import advisory_findings


class ParametersCellStatement:
    """Keep the parameters cell to ``name: type = value`` lines.

    Anything else there runs as written (nbprod and papermill inject the given values in a new
    cell right after it), but it makes the contract weaker: an import or a print is code that
    runs before the given values exist, an annotation nbprod cannot read (``Path``,
    ``int | str``) is not checked, an unpacking assignment cannot be typed per name, and a name
    assigned twice has a default that depends on the order of lines. Move such code to the
    next cell, and use plain-data annotations.

    Bad:  ``import os`` and ``out: Path = "out"`` in the parameters cell.
    Good: ``out: str = "out"`` there, and ``import os`` with ``out = Path(out)`` below.
    """

    code = "NBP108"
    name = "parameters-cell-statement"
    severity: Severity = "warning"
    summary = "the parameters cell holds more than typed parameter declarations"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        return advisory_findings(self, notebook, lambda kind: kind != "computed")
