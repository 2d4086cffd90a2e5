"""Python checks through ruff: undefined names across cells, unused imports, syntax errors.

ruff reads notebooks natively (it understands IPython magics and shell escapes) and reports
each finding with its cell (1-based over all cells) and the line within the cell; nbprod runs
it once over the notebooks each process lints and maps the findings back to 0-based cell
indexes. ruff writes its report to an unlinked temporary file, so it runs alongside the
rules with no thread in this process to drain a pipe (and none alive when the linter forks).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import InfraError
from .config import RUFF_SEVERITY
from .model import Finding

_TIMEOUT = 600.0


@dataclass
class RuffRun:
    """ruff running in the background over some notebooks; :meth:`result` waits for it.

    As a context manager it starts ruff, and on the way out stops it if nobody waited.
    """

    paths: Sequence[Path]
    select: Sequence[str]
    shown: dict[str, str]  # path as given (or resolved) -> path as findings print it
    _proc: subprocess.Popen[bytes] | None = None
    _files: list[IO[bytes]] = field(default_factory=list)

    def __enter__(self) -> RuffRun:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._close()

    def start(self) -> RuffRun:
        if not self.paths:
            return self
        from ruff.__main__ import find_ruff_bin

        command = [find_ruff_bin(), "check", "--isolated", "--no-cache", "--exit-zero",
                   "--output-format", "json", "--select", ",".join(self.select), "--",
                   *map(str, self.paths)]
        out = tempfile.TemporaryFile()  # noqa: SIM115 - both are closed by result()
        err = tempfile.TemporaryFile()  # noqa: SIM115
        self._files = [out, err]
        try:
            self._proc = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                          stdout=out, stderr=err)
        except OSError as exc:
            self._close()
            raise InfraError(f"cannot run ruff: {exc}") from exc
        return self

    def result(self) -> dict[str, list[Finding]]:
        """Findings keyed by the shown path."""
        if self._proc is None:
            return {}
        try:
            code = self._proc.wait(timeout=_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            self._proc.kill()
            self._proc.wait()
            self._close()
            raise InfraError(f"cannot run ruff: {exc}") from exc
        out, err = (self._read(f) for f in self._files)
        self._close()
        if code != 0:
            last = err.decode(errors="replace").strip().splitlines()[-1:] or ""
            raise InfraError(f"ruff failed (exit {code}): {last}")
        return _findings(json.loads(out or b"[]"), self.shown)

    @staticmethod
    def _read(file: IO[bytes]) -> bytes:
        file.seek(0)
        return file.read()

    def _close(self) -> None:
        for file in self._files:
            file.close()
        self._files = []


def _findings(items: list[Any], shown: dict[str, str]) -> dict[str, list[Finding]]:
    findings: dict[str, list[Finding]] = {}
    shown = dict(shown)  # ruff's file names as they are met, added below
    resolved: dict[str, str] | None = None  # built only if ruff names a file otherwise
    for item in items:
        filename = item["filename"]
        path = shown.get(filename)
        if path is None:
            if resolved is None:
                resolved = {str(Path(k).resolve()): v for k, v in shown.items()}
            path = shown[filename] = resolved.get(str(Path(filename).resolve()), filename)
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
