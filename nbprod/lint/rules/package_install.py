"""NBP304: the notebook installs packages (``!pip install``, ``%conda install``...)."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding
from ._shell import shell_lines

_MAX_SHOWN = 60


class PackageInstall:
    """A notebook must not install packages while it runs.

    ``!pip install pandas`` in a scheduled notebook changes the environment on every run: the
    version installed depends on the day, the install can fail when the index is down or the
    network is closed, it may upgrade a package other runs share, and the run record no
    longer describes the environment the code really used. Declare dependencies in the
    project (``pyproject.toml``, ``requirements.txt``, a conda ``environment.yml``) and
    build the environment before running. Reported: ``!pip``/``%pip``, ``uv pip``,
    ``conda``/``mamba``, ``apt-get`` installs, in shell cells and in ``subprocess`` calls.

    Bad:  ``%pip install scikit-learn`` in the first cell.
    Good: ``scikit-learn>=1.4`` in the project's dependencies.
    """

    code = "NBP304"
    name = "package-install"
    severity: Severity = "error"
    summary = "the notebook installs packages when it runs"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        for cell in notebook.code_cells:
            for line, kind, text in shell_lines(cell.source):
                if kind == "install":
                    shown = text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…"
                    yield finding(self, notebook, f"installs packages at run time ({shown}): "
                                  "declare them in the project's dependencies",
                                  cell=cell.index, line=line)
