"""NBP107: a parameter whose default is computed and that has no type annotation."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity
from ._advisories import advisory_findings


class ComputedParameterDefault:
    """A parameter with a computed default should be annotated, or computed in the next cell.

    ``data_dir = os.path.join(base, "data")`` in the parameters cell runs as papermill runs it,
    and ``nbprod run -p data_dir /mnt/x`` sets it. But nbprod cannot tell its type from a call,
    so a given value is read as papermill reads strings (``-p data_dir 5`` becomes the int 5)
    and nothing is checked. Either annotate it, so values are checked against the annotation,
    or keep only literals in the parameters cell and compute the rest in the next cell.

    Bad:  ``data_dir = os.path.join(base, "data")``
    Good: ``data_dir: str = os.path.join(base, "data")``, or ``subdir: str = "data"`` in the
          parameters cell and ``data_dir = os.path.join(base, subdir)`` in the next one.
    """

    code = "NBP107"
    name = "computed-parameter-default"
    severity: Severity = "warning"
    summary = "a parameter's default is computed and it has no type annotation"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        return advisory_findings(self, notebook, lambda kind: kind == "computed")
