"""NBP305: the notebook names no kernel, or one that is not installed."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding


class KernelSpec:
    """A notebook must say which kernel runs it, and that kernel must exist here.

    Without ``metadata.kernelspec.name`` a scheduler falls back to whatever default kernel
    the machine has; with a name that is not installed (``conda-env-old-py``) the run fails
    at start. Select the kernel in JupyterLab and save, or run with ``--kernel NAME``.

    Bad:  ``"kernelspec": {"name": "conda-env-old-py", ...}`` where that env is gone.
    Good: ``"kernelspec": {"name": "python3", ...}`` (``jupyter kernelspec list`` shows the
          names installed).
    """

    code = "NBP305"
    name = "kernelspec"
    severity: Severity = "error"
    summary = "missing or unknown kernelspec"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        spec = notebook.kernelspec
        name = spec.get("name") if spec else None
        if not name:
            yield finding(self, notebook, "no kernelspec: the notebook does not say which "
                          "kernel runs it")
        elif context.installed_kernels is not None and \
                str(name).lower() not in context.installed_kernels:  # names are case-blind
            known = ", ".join(sorted(context.installed_kernels)) or "none"
            yield finding(self, notebook, f"kernel '{name}' is not installed here "
                          f"(installed: {known})")
