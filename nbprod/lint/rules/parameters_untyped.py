"""NBP104: a parameter whose default is None and that has no annotation."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding


class UntypedParameter:
    """A parameter defaulting to ``None`` needs a type annotation.

    The type of a parameter comes from its annotation, else from its default. ``limit = None``
    has neither, so ``nbprod run -p limit 10`` cannot check or convert the value (it may arrive
    as the string ``"10"``), ``--help``-style listings show ``any``, and papermill passes
    whatever it is given. Annotate it with the type it takes when set, plus ``| None``.

    Bad:  ``limit = None``
    Good: ``limit: int | None = None  # rows to read; None reads all``
    """

    code = "NBP104"
    name = "untyped-parameter"
    severity: Severity = "warning"
    summary = "a parameter defaulting to None has no type annotation"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        contract = notebook.contract
        if isinstance(contract, Exception) or contract.cell_index is None:
            return  # no parameters cell (NBP101) or an unreadable one (NBP106)
        for parameter in contract.parameters:
            if not parameter.typed and parameter.default is None and \
                    parameter.computed is None:  # computed: NBP107
                yield finding(self, notebook, f"parameter '{parameter.name}' defaults to None "
                              f"without a type: annotate it, e.g. '{parameter.name}: int | None "
                              "= None'", cell=contract.cell_index, line=parameter.line)
