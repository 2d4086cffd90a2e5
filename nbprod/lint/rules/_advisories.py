"""Findings from the advice the parameter contract gives about its own cell (NBP107, NBP108)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..model import Finding, LintNotebook, LintRule, finding


def advisory_findings(rule: LintRule, notebook: LintNotebook,
                      wanted: Callable[[str], bool]) -> Iterator[Finding]:
    """One finding of ``rule`` per advisory whose kind is ``wanted``, at its line."""
    contract = notebook.contract
    if isinstance(contract, Exception):
        return  # an unreadable cell is NBP106
    for advisory in contract.advisories:
        if wanted(advisory.kind):
            yield finding(rule, notebook, advisory.message, cell=contract.cell_index,
                          line=advisory.line)
