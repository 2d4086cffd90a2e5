"""The set of lint rules in use, loaded from the ``nbprod.lint_rules`` entry-point group.

Built-in rules register there too (pyproject.toml), so a third-party rule is a peer: a class
following :class:`~nbprod.lint.model.LintRule`, named in its package's entry points::

    [project.entry-points."nbprod.lint_rules"]
    ACME001 = "acme_rules:NoPrintStatements"
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..errors import SettingsError
from .model import SEVERITY_RANK, LintRule

GROUP = "nbprod.lint_rules"
_CODE = re.compile(r"[A-Z]{1,6}[0-9]{3}")

# Codes nbprod reports itself (not from a rule), documented for --explain.
ENGINE_CODES = {
    "NBP001": ("malformed-notebook", "error", "the file is not a readable notebook",
               "The file is not valid JSON, not a Jupyter notebook, or not valid against the "
               "nbformat schema. The finding says why. Restore it from version control or "
               "re-save it from JupyterLab. Nothing else is checked in a malformed notebook."),
}


@dataclass(frozen=True)
class RuleSet:
    """The rules to run, keyed by code."""

    rules: tuple[LintRule, ...]

    @classmethod
    def of(cls, rules: Iterable[LintRule]) -> RuleSet:
        seen: dict[str, LintRule] = {}
        for rule in rules:
            _check(rule)
            if rule.code in seen or rule.code in ENGINE_CODES:
                raise SettingsError(f"two lint rules use the code {rule.code} "
                                    f"({type(rule).__name__})")
            seen[rule.code] = rule
        return cls(tuple(sorted(seen.values(), key=lambda r: r.code)))

    @classmethod
    def from_entry_points(cls) -> RuleSet:
        """Every rule installed in this environment (built-in and plugins)."""
        from ..plugins import group

        rules = []
        for entry in group(GROUP):
            try:
                loaded = entry.load()
                rules.append(loaded() if isinstance(loaded, type) else loaded)
            except Exception as exc:
                raise SettingsError(f"lint rule plugin {entry.name} ({entry.value}) failed to "
                                    f"load: {type(exc).__name__}: {exc}",
                                    hint="fix or uninstall the package providing it") from exc
        return cls.of(rules)

    def __iter__(self) -> Iterator[LintRule]:
        return iter(self.rules)

    def get(self, code: str) -> LintRule | None:
        return next((r for r in self.rules if r.code == code), None)


def _check(rule: object) -> None:
    missing = [a for a in ("code", "name", "severity", "summary", "check")
               if not hasattr(rule, a)]
    if missing:
        raise SettingsError(f"lint rule {type(rule).__name__} lacks {', '.join(missing)}")
    code = rule.code  # type: ignore[attr-defined]
    if not _CODE.fullmatch(code):
        raise SettingsError(f"lint rule {type(rule).__name__}: code {code!r} must look like "
                            "ABC123")
    if rule.severity not in SEVERITY_RANK:  # type: ignore[attr-defined]
        raise SettingsError(f"lint rule {code}: severity must be error, warning or info")


def explain(code: str, rules: RuleSet) -> str:
    """The documentation of a code, for ``nbprod lint --explain``."""
    import inspect

    if code in ENGINE_CODES:
        name, severity, summary, text = ENGINE_CODES[code]
        return f"{code} {name} ({severity}): {summary}\n\n{text}\n"
    rule = rules.get(code)
    if rule is None:
        if not code.startswith("NBP"):
            return (f"{code} is a Python check run by ruff: see `ruff rule {code}`\n")
        known = ", ".join(r.code for r in rules)
        raise SettingsError(f"no lint rule {code}", hint=f"known: {known}")
    doc = inspect.cleandoc(type(rule).__doc__ or rule.summary)
    return f"{rule.code} {rule.name} ({rule.severity}): {rule.summary}\n\n{doc}\n"
