"""NBP204: the notebook file is larger than ``max_notebook_bytes``."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding
from ._format import human_size


class OversizedNotebook:
    """A notebook file should stay smaller than ``max_notebook_bytes`` (default 10 MB).

    Large notebooks are slow to open, diff, review, clone and store with every run; they are
    almost always large because of outputs (images, tables) or embedded data. Clear outputs
    before committing, keep data in files, and save figures and tables as run artefacts. The
    limit is the ``max_notebook_bytes`` setting of ``[tool.nbprod.lint]``.

    Bad:  a 40 MB notebook holding inline plots of every experiment.
    Good: the same notebook saved without outputs; the plots stored with the run.
    """

    code = "NBP204"
    name = "oversized-notebook"
    severity: Severity = "warning"
    summary = "the notebook file is larger than max_notebook_bytes"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        if notebook.size > context.max_notebook_bytes:
            yield finding(self, notebook, f"the notebook is {human_size(notebook.size)} (limit "
                          f"{human_size(context.max_notebook_bytes)}): clear outputs and keep data "
                          "out of it")
