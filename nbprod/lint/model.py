"""What lint rules see and say: a light view of a notebook, findings, and the rule contract.

A :class:`LintNotebook` is built from the notebook's JSON without nbformat, so linting
hundreds of notebooks stays cheap; rules read cells, sources, outputs and the parameter
contract from it. Every rule — built in or third party (entry-point group
``nbprod.lint_rules``) — follows :class:`LintRule`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

from ..notebook.contract import ContractError, ParameterContract, parse_contract
from ..notebook.version import cell_source

Severity = Literal["error", "warning", "info"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}
CODE_PATTERN = re.compile(r"NBP\d{3}")


class Finding(NamedTuple):
    """One problem: where (path, cell index, line in the cell), which rule, how bad, what.

    A named tuple rather than a dataclass: a lint of a few hundred notebooks makes tens of
    thousands of these (most from ruff), and a tuple is built, compared and sent between
    processes at a fraction of the cost. Change one with ``finding._replace(...)``.
    """

    path: str
    cell: int | None
    line: int | None
    code: str
    severity: Severity
    message: str
    column: int | None = None
    fixable: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "cell": self.cell, "line": self.line, "column": self.column,
                "code": self.code, "severity": self.severity, "message": self.message,
                "fixable": self.fixable}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        return cls(path=data["path"], cell=data.get("cell"), line=data.get("line"),
                   code=data["code"], severity=data["severity"], message=data["message"],
                   column=data.get("column"), fixable=bool(data.get("fixable")))


@dataclass(frozen=True)
class FileResult:
    """The findings for one notebook file, and the version linted (None if malformed)."""

    path: str
    sha256: str
    notebook_version: str | None
    findings: tuple[Finding, ...]
    cached: bool = False
    digest: str = ""  # findings_digest(findings), computed where they were found

    def findings_digest(self) -> str:
        return self.digest or findings_digest(self.findings)

    def __reduce__(self) -> tuple[Any, ...]:
        # the findings as plain tuples: a tenth of the cost of pickling named tuples
        return (_file_result, (self.path, self.sha256, self.notebook_version,
                               [tuple(f) for f in self.findings], self.cached, self.digest))


def _file_result(path: str, sha256: str, version: str | None, findings: list[tuple[Any, ...]],
                 cached: bool, digest: str) -> FileResult:
    new = tuple.__new__
    return FileResult(path, sha256, version, tuple(new(Finding, f) for f in findings),
                      cached, digest)


def findings_digest(findings: Sequence[Finding]) -> str:
    """SHA-256 of what the findings say (their paths aside): equal for equal results, in any
    process. The registry compares it instead of the findings (``nbprod lint`` records a
    result only if it differs from the latest recorded)."""
    text = "".join([f"{cell}\x1f{line}\x1f{column}\x1f{code}\x1f{severity}\x1f{fixable:d}\x1f"
                    f"{message}\x1e" for _path, cell, line, code, severity, message, column, fixable
                    in findings])
    return hashlib.sha256(text.encode()).hexdigest()


class Cell(NamedTuple):
    """One cell as a rule sees it (a named tuple, as :class:`Finding`: thousands are built
    per lint)."""

    index: int  # type: ignore[assignment]  # the field hides tuple.index(), unused on cells
    cell_type: str
    source: str
    tags: tuple[str, ...]
    outputs: tuple[Mapping[str, Any], ...]
    execution_count: int | None
    metadata: Mapping[str, Any]

    @property
    def is_code(self) -> bool:
        return self.cell_type == "code"

    def lines(self) -> Iterator[tuple[int, str]]:
        """``(line number from 1, text)`` of the source."""
        return enumerate(self.source.splitlines(), start=1)

    def output_texts(self) -> Iterator[tuple[int, str]]:
        """``(output position, text)`` of every textual part of every output."""
        for position, output in enumerate(self.outputs):
            for text in _output_texts(output):
                yield position, text


def _output_texts(output: Mapping[str, Any]) -> Iterator[str]:
    if "text" in output:
        yield _joined(output["text"])
    for key in ("ename", "evalue"):
        if isinstance(output.get(key), str):
            yield output[key]
    for line in output.get("traceback") or ():
        yield str(line)
    for mime, value in (output.get("data") or {}).items():
        if mime.startswith("text/") or mime.endswith("json"):
            yield _joined(value) if not isinstance(value, dict) else str(value)


def _joined(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


@dataclass
class LintNotebook:
    """A notebook as the linter reads it: its JSON, cells, kernelspec and size."""

    path: Path
    shown: str  # the path as findings print it
    data: Mapping[str, Any]
    size: int
    cells: list[Cell] = field(default_factory=list)

    @classmethod
    def from_json(cls, path: Path, shown: str, data: Mapping[str, Any],
                  size: int) -> LintNotebook:
        cells = []
        for index, raw in enumerate(data.get("cells", [])):
            metadata = raw.get("metadata") or {}
            cells.append(Cell(
                index=index, cell_type=str(raw.get("cell_type")), source=cell_source(raw),
                tags=tuple(metadata.get("tags") or ()),
                outputs=tuple(raw.get("outputs") or ()),
                execution_count=raw.get("execution_count"), metadata=metadata))
        return cls(path=path, shown=shown, data=data, size=size, cells=cells)

    @cached_property
    def code_cells(self) -> list[Cell]:
        """The code cells (computed once: every rule asks)."""
        return [c for c in self.cells if c.is_code]

    @property
    def kernelspec(self) -> Mapping[str, Any] | None:
        spec = (self.data.get("metadata") or {}).get("kernelspec")
        return spec if isinstance(spec, dict) else None

    @cached_property
    def parameters_cells(self) -> list[Cell]:
        return [c for c in self.cells if "parameters" in c.tags]

    @cached_property
    def contract(self) -> ParameterContract | ContractError:
        """The parameters cell's contract (lenient, as --no-strict), or why it cannot be read."""
        tagged = self.parameters_cells
        if not tagged:
            return ParameterContract(cell_index=None)
        strict = self._strict
        if isinstance(strict, ParameterContract):
            return strict  # a cell that passes the strict parse reads the same leniently
        try:
            return parse_contract(tagged[0].source, cell_index=tagged[0].index, path=self.shown,
                                  strict=False)
        except ContractError as exc:
            return exc

    @cached_property
    def _strict(self) -> ParameterContract | ContractError | None:
        tagged = self.parameters_cells
        if not tagged:
            return None
        try:
            return parse_contract(tagged[0].source, cell_index=tagged[0].index, path=self.shown)
        except ContractError as exc:
            return exc

    def strict_contract_error(self) -> ContractError | None:
        """What ``nbprod run`` (strict) would refuse in the parameters cell, if anything."""
        strict = self._strict
        return strict if isinstance(strict, ContractError) else None


@dataclass(frozen=True)
class LintContext:
    """What rules may consult beyond the notebook itself."""

    max_output_bytes: int = 1_000_000
    max_notebook_bytes: int = 10_000_000
    installed_kernels: frozenset[str] | None = None  # None: unknown, do not check
    required_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@runtime_checkable
class LintRule(Protocol):
    """A lint rule. The class docstring is its ``nbprod lint --explain CODE`` text.

    ``code`` is stable (``NBP101``); ``name`` a short kebab-case name; ``severity`` the
    default (settings may override it); ``summary`` one line for listings.
    """

    code: str
    name: str
    severity: Severity
    summary: str

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterable[Finding]:
        """Yield findings for ``notebook`` (severity may be left as the rule's default)."""
        ...


def finding(rule: LintRule, notebook: LintNotebook, message: str, *, cell: int | None = None,
            line: int | None = None, column: int | None = None,
            fixable: bool = False) -> Finding:
    """A finding of ``rule`` with the rule's default severity."""
    return Finding(path=notebook.shown, cell=cell, line=line, code=rule.code,
                   severity=rule.severity, message=message, column=column, fixable=fixable)
