"""Lint findings as text, JSON, GitHub annotations or SARIF 2.1.0."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..about import __version__
from .catalog import ENGINE_CODES, RuleSet
from .engine import LintReport
from .model import Finding

_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def location(item: Finding) -> str:
    """``path:cell N:line M`` (as much as is known)."""
    if item.cell is None:
        return item.path
    if item.line is None:
        return f"{item.path}:cell {item.cell}"
    return f"{item.path}:cell {item.cell}:line {item.line}"


def as_text(report: LintReport, rules: RuleSet, color: bool = False) -> str:
    findings = report.findings
    if color:
        import click

        codes = {f.code for f in findings}
        styled = {(sev, code): click.style(code, fg=fg, bold=True)
                  for sev, fg in _COLOR.items() for code in codes}
        lines = [f"{location(f)}: {styled[f.severity, f.code]} {f.message}" for f in findings]
    else:
        lines = [f"{location(f)}: {f.code} {f.message}" for f in findings]
    lines.append(summary(report))
    return "\n".join(lines)


_COLOR = {"error": "red", "warning": "yellow", "info": "blue"}


def summary(report: LintReport) -> str:
    counts = report.counts()
    total = sum(counts.values())
    files = len(report.files)
    if not total:
        return f"{files} notebook{'s' if files != 1 else ''} checked: no findings"
    parts = [f"{n} {sev}{'s' if n != 1 else ''}" for sev, n in counts.items() if n]
    with_findings = sum(1 for f in report.files if f.findings)
    fixable = sum(1 for f in report.findings if f.fixable)
    text = (f"{total} finding{'s' if total != 1 else ''} ({', '.join(parts)}) in "
            f"{with_findings} of {files} notebooks")
    if fixable:
        text += f"; {fixable} fixable with --fix"
    return text


def as_json(report: LintReport, rules: RuleSet) -> str:
    return json.dumps([f.to_json() for f in report.findings], indent=2)


def as_github(report: LintReport, rules: RuleSet) -> str:
    """GitHub Actions workflow commands: one annotation per finding."""
    lines = []
    for item in report.findings:
        level = {"error": "error", "warning": "warning"}.get(item.severity, "notice")
        where = location(item).removeprefix(item.path).lstrip(":")
        title = f"{item.code} ({where})" if where else item.code
        lines.append(f"::{level} file={_escape(item.path, True)},title={_escape(title, True)}"
                     f"::{_escape(item.message, False)}")
    return "\n".join(lines)


def _escape(text: str, prop: bool) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def as_sarif(report: LintReport, rules: RuleSet) -> str:
    """A SARIF 2.1.0 log (code scanning), with the cell and line as a logical location."""
    codes = sorted({f.code for f in report.findings})
    descriptors = [_descriptor(code, rules) for code in codes]
    results = []
    for item in report.findings:
        result: dict[str, Any] = {
            "ruleId": item.code,
            "ruleIndex": codes.index(item.code),
            "level": _SARIF_LEVEL[item.severity],
            "message": {"text": item.message},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": item.path}},
                "logicalLocations": [{"name": location(item).removeprefix(item.path)
                                      .lstrip(":") or "notebook", "kind": "cell"}],
            }],
            "properties": {"cell": item.cell, "line": item.line},
        }
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "nbprod", "version": __version__,
                                "informationUri": "https://github.com/nbprod/nbprod",
                                "rules": descriptors}},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2)


def _descriptor(code: str, rules: RuleSet) -> dict[str, Any]:
    rule = rules.get(code)
    level: str
    if rule is not None:
        name, summary, level = rule.name, rule.summary, rule.severity
    elif code in ENGINE_CODES:
        name, level, summary, _text = ENGINE_CODES[code]
    else:
        name, summary, level = code, f"ruff rule {code}", "warning"
    return {"id": code, "name": name, "shortDescription": {"text": summary},
            "defaultConfiguration": {"level": _SARIF_LEVEL.get(level, "warning")}}


FORMATS: dict[str, Callable[[LintReport, RuleSet], str]] = {
    "text": as_text, "json": as_json, "github": as_github, "sarif": as_sarif,
}
