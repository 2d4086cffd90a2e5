"""Run nbval on one notebook, in-process through pytest, with nbprod's plugin.

The plugin collects ``.ipynb`` files itself with subclasses of nbval's collector and cell
item: the cell item pulls numbers within tolerance to the saved values before nbval's exact
comparison and keeps a short diff when outputs still differ; the collector maps nbval's
code-cell counter to the notebook's cell index. pytest runs isolated from the project's own
pytest settings and plugins (an empty ini, plugin autoload off).

:func:`run_regression` changes the process environment while pytest runs (the kernel
inherits it); ``nbprod test`` calls it in a dedicated worker process.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from nbval.plugin import IPyNbCell, IPyNbFile

from .config import TestConfig
from .tolerance import align_outputs

_SETTINGS = pytest.StashKey["TestConfig"]()
_IMAGES = ("image/png", "image/jpeg")


@dataclass(frozen=True)
class CellFailure:
    """A cell that did not reproduce: where, why (output, error, timeout, kernel), a diff."""

    cell_index: int | None
    kind: str
    message: str
    diff: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"cell_index": self.cell_index, "kind": self.kind, "message": self.message,
                "diff": self.diff}


@dataclass(frozen=True)
class RegressionResult:
    notebook: str
    passed: bool
    cells_checked: int
    failures: tuple[CellFailure, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {"notebook": self.notebook, "passed": self.passed,
                "cells_checked": self.cells_checked,
                "failures": [f.to_json() for f in self.failures]}


class NbprodNotebook(IPyNbFile):  # type: ignore[misc]
    """nbval's notebook collector yielding :class:`NbprodCell` items with cell indexes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.config.stash[_SETTINGS].images == "exact":
            skipped: tuple[str, ...] = tuple(getattr(self, "skip_compare", ()))
            self.skip_compare = tuple(k for k in skipped if k not in _IMAGES)

    def collect(self) -> Iterator[NbprodCell]:
        code_indexes: list[int] = []
        for item in super().collect():
            if not code_indexes:
                code_indexes = [i for i, c in enumerate(self.nb.cells)
                                if c.cell_type == "code"]
            cell = NbprodCell.from_parent(self, name=item.name, cell_num=item.cell_num,
                                          cell=item.cell, options=item.options)
            cell.cell_index = code_indexes[item.cell_num]
            yield cell


class NbprodCell(IPyNbCell):  # type: ignore[misc]
    """nbval's cell item with numeric tolerance and a short diff of the first difference."""

    cell_index: int | None = None
    short_diff: str = ""

    def compare_outputs(self, test: Any, ref: Any, skip_compare: Any = None) -> bool:
        settings: TestConfig = self.config.stash[_SETTINGS]
        aligned = align_outputs(test, ref, settings.tolerance)
        return bool(super().compare_outputs(aligned, ref, skip_compare))

    def format_output_compare(self, key: str, left: Any, right: Any) -> None:
        super().format_output_compare(key, left, right)
        saved = str(left).splitlines()
        fresh = str(right).splitlines()
        lines = list(difflib.unified_diff(saved, fresh, "saved", "fresh", n=1, lineterm=""))
        self.short_diff = f"[{key}]\n" + "\n".join(lines[:16])


class _Plugin:
    """Collects notebooks and remembers each cell's outcome."""

    def __init__(self, settings: TestConfig) -> None:
        self.settings = settings
        self.failures: list[CellFailure] = []
        self.checked = 0

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[_SETTINGS] = self.settings

    @pytest.hookimpl(tryfirst=True)
    def pytest_collect_file(self, file_path: Path, parent: Any) -> Any:
        if file_path.suffix == ".ipynb":
            return NbprodNotebook.from_parent(parent, path=file_path)
        return None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: Any, call: Any) -> Iterator[None]:
        outcome: Any = yield
        report = outcome.get_result()
        if report.when == "call" and report.passed:
            self.checked += 1
        if report.failed:
            self.failures.append(_failure(item, report))


def _failure(item: Any, report: Any) -> CellFailure:
    text = str(report.longreprtext or "")
    index = getattr(item, "cell_index", None)
    lowered = text.lower()
    if report.when == "setup":
        kind, message = "kernel", "the kernel did not start: " + _last_line(text)
    elif "timeout" in lowered and "exceeded" in lowered:
        kind, message = "timeout", _line_with(text, "Timeout") or "cell timed out"
    elif "kernel dead" in lowered or "kernel died" in lowered:
        kind, message = "kernel", "the kernel died"
    elif "cell outputs differ" in lowered or str(getattr(item, "short_diff", "") or ""):
        kind, message = "output", f"cell {index}: saved outputs no longer match"
    else:
        kind, message = "error", f"cell {index} raised " + (_exception(text) or "an exception")
    short_diff = str(getattr(item, "short_diff", "") or "")
    return CellFailure(cell_index=index, kind=kind, message=message,
                       diff=short_diff or _tail(text))


def _exception(text: str) -> str:
    for line in reversed(text.splitlines()):
        stripped = line.strip()
        if ":" in stripped and stripped.split(":", 1)[0].replace(".", "").isidentifier() and \
                (stripped.split(":", 1)[0].endswith(("Error", "Exception", "Exit"))
                 or stripped.split(":", 1)[0] in ("KeyboardInterrupt", "StopIteration")):
            return stripped[:200]
    return ""


def _line_with(text: str, needle: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if needle in ln), "")[:200]


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.splitlines()[-lines:])


def run_regression(path: Path, settings: TestConfig, *, shown: str, kernel: str | None = None,
                   cell_timeout: float = 600, start_timeout: float = 60,
                   env: Mapping[str, str] | None = None) -> RegressionResult:
    """Execute ``path`` with nbval and compare every code cell's outputs with the saved ones."""
    plugin = _Plugin(settings)
    with tempfile.TemporaryDirectory(prefix="nbprod-nbval-") as tmp, _environment(env or {}):
        ini = Path(tmp) / "pytest.ini"
        ini.write_text("[pytest]\n")
        args = [str(path), "-p", "nbval.plugin", "-p", "no:cacheprovider", "-q",
                "-c", str(ini), "--rootdir", str(path.parent), "-o", "addopts=",
                "--nbval-cell-timeout", str(cell_timeout),
                "--nbval-kernel-startup-timeout", str(start_timeout),
                "-W", "ignore::DeprecationWarning"]
        if kernel:
            args += ["--nbval-kernel-name", kernel]
        if settings.sanitize:
            sanitize = Path(tmp) / "sanitize.cfg"
            sanitize.write_text("".join(
                f"[rule{i}]\nregex: {s.regex}\nreplace: {s.replace}\n\n"
                for i, s in enumerate(settings.sanitize)))
            args += ["--nbval-sanitize-with", str(sanitize)]
        code = pytest.main(args, plugins=[plugin])
    failures = tuple(plugin.failures)
    if code not in (0, 1) and not failures:
        failures = (CellFailure(None, "error", f"pytest could not run the notebook (exit "
                                               f"{int(code)})"),)
    return RegressionResult(notebook=shown, passed=not failures, cells_checked=plugin.checked,
                            failures=failures)


@contextlib.contextmanager
def _environment(extra: Mapping[str, str]) -> Iterator[None]:
    """Plugin autoload off and ``extra`` set, restored afterwards."""
    values = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **extra}
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
