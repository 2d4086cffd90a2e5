"""NBP203: one output is larger than ``max_output_bytes``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..model import Finding, LintContext, LintNotebook, Severity, finding
from ._format import human_size


class OversizedOutput:
    """No single output should be larger than ``max_output_bytes`` (default 1 MB).

    A huge output (a printed DataFrame of a million rows, an inline image at full
    resolution, a progress bar that printed every step) bloats the repository and every run
    record, makes diffs and code review useless, and slows the notebook in JupyterLab. Print
    a summary (``df.head()``, ``df.describe()``), save large artefacts as files with
    ``nbprod.output_path()``, or clear outputs (``nbprod lint --fix``). The limit is the
    ``max_output_bytes`` setting of ``[tool.nbprod.lint]``.

    Bad:  ``df`` as the last line of a cell on a 500 000-row frame.
    Good: ``df.head()``, and ``df.to_parquet(nbprod.output_path("df.parquet"))``.
    """

    code = "NBP203"
    name = "oversized-output"
    severity: Severity = "warning"
    summary = "an output is larger than max_output_bytes"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        limit = context.max_output_bytes
        if notebook.size <= limit:
            return  # no output can be larger than the whole file
        for cell in notebook.code_cells:
            sizes = [_size(output) for output in cell.outputs]
            biggest = max(sizes, default=0)
            if biggest > limit:
                yield finding(self, notebook, f"output {sizes.index(biggest)} is "
                              f"{human_size(biggest)} (limit {human_size(limit)}): save it to "
                              "a file or print a summary", cell=cell.index, fixable=True)


def _size(output: Mapping[str, Any]) -> int:
    """About the size of an output as saved: the lengths of its texts and data."""
    total = 0
    for value in (output.get("text"), output.get("traceback"),
                  *(output.get("data") or {}).values()):
        if isinstance(value, str):
            total += len(value)
        elif isinstance(value, list):
            total += sum(len(v) for v in value if isinstance(v, str))
        elif value is not None:
            total += len(str(value))
    return total
