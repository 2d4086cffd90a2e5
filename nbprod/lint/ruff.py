"""Python checks through ruff: undefined names across cells, unused imports, syntax errors.

ruff reads notebooks natively (it understands IPython magics and shell escapes) and reports
each finding with its cell (1-based over all cells) and the line within the cell; nbprod runs
it once over every notebook to lint and maps the findings back to 0-based cell indexes.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InfraError
from .config import RUFF_SEVERITY
from .model import Finding


@dataclass
class RuffRun:
    """ruff running in the background over some notebooks; :meth:`result` waits for it."""

    paths: Sequence[Path]
    select: Sequence[str]
    shown: dict[str, str]  # absolute path -> path as findings print it
    _thread: threading.Thread | None = None
    _findings: dict[str, list[Finding]] = field(default_factory=dict)
    _error: BaseException | None = None

    def start(self) -> RuffRun:
        if self.paths:
            self._thread = threading.Thread(target=self._run, name="nbprod-ruff", daemon=True)
            self._thread.start()
        return self

    def result(self) -> dict[str, list[Finding]]:
        """Findings keyed by the shown path."""
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._findings

    def _run(self) -> None:
        try:
            self._findings = _ruff(self.paths, self.select, self.shown)
        except BaseException as exc:
            self._error = exc


def _ruff(paths: Sequence[Path], select: Sequence[str],
          shown: dict[str, str]) -> dict[str, list[Finding]]:
    from ruff.__main__ import find_ruff_bin

    command = [find_ruff_bin(), "check", "--isolated", "--no-cache", "--exit-zero",
               "--output-format", "json", "--select", ",".join(select), "--",
               *map(str, paths)]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InfraError(f"cannot run ruff: {exc}") from exc
    if proc.returncode != 0:
        raise InfraError(f"ruff failed (exit {proc.returncode}): "
                         f"{proc.stderr.strip().splitlines()[-1:] or ''}")
    findings: dict[str, list[Finding]] = {}
    names: dict[str, str] = {}  # ruff's file name -> shown (resolved once per file, not finding)
    for item in json.loads(proc.stdout or "[]"):
        filename = item["filename"]
        path = names.get(filename)
        if path is None:
            path = names[filename] = shown.get(str(Path(filename).resolve()), filename)
        code = item.get("code") or "E999"
        if code == "invalid-syntax":
            code = "E999"
        cell = item.get("cell")
        location = item.get("location") or {}
        findings.setdefault(path, []).append(Finding(
            path=path, cell=cell - 1 if isinstance(cell, int) else None,
            line=location.get("row"), column=location.get("column"), code=code,
            severity=RUFF_SEVERITY.get(code, "warning"), message=item.get("message", "")))
    return findings
