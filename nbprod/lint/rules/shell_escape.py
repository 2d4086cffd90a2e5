"""NBP307: a shell escape (``!cmd``, ``%%bash``, ``%system``) in a code cell."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding
from ._shell import shell_lines

_MAX_SHOWN = 60


class ShellEscape:
    """Shell commands make a notebook depend on the machine it runs on.

    ``!wget``, ``!ls data/``, ``%%bash`` cells and ``%system`` run whatever those programs are
    on the host (or fail where they are missing, e.g. on Windows or in a slim container);
    their failures do not stop the notebook (``!cmd`` ignores the exit code), and they work
    only under IPython, not as a script. Use Python instead (``pathlib``, ``shutil``,
    ``urllib.request``, ``subprocess.run(..., check=True)``). Package installs are NBP304.

    Bad:  ``!mkdir -p out && cp data/*.csv out/``
    Good: ``Path("out").mkdir(exist_ok=True)`` and ``shutil.copy(...)``
    """

    code = "NBP307"
    name = "shell-escape"
    severity: Severity = "warning"
    summary = "a code cell runs shell commands"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        for cell in notebook.code_cells:
            for line, kind, text in shell_lines(cell.source):
                if kind == "shell":
                    shown = text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…"
                    yield finding(self, notebook, f"shell escape '{shown}': use Python "
                                  "(pathlib, shutil, subprocess.run with check=True)",
                                  cell=cell.index, line=line)
