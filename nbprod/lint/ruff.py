"""Python checks through ruff: undefined names across cells, unused imports, syntax errors.

ruff reads notebooks natively (it understands IPython magics and shell escapes) and reports
each finding with its cell (1-based over all cells) and the line within the cell; nbprod runs
it once over the notebooks each process lints and maps the findings back to 0-based cell
indexes. ruff writes its report to an unlinked temporary file, so it runs alongside the
rules with no thread in this process to drain a pipe (and none alive when the linter forks).

The report is ruff's ``concise`` format (one line a finding: a fifth of the JSON report's
size and a third of its reading cost), run from ``/`` so each file is named by its absolute
path without the leading slash. A line that does not read as expected, or names a file not
given, makes ruff run again for its JSON report, which is read instead.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import InfraError
from .config import RUFF_SEVERITY
from .model import Finding

_TIMEOUT = 600.0
# after "path:": cell N:row:column: CODE [*] message  (no "cell N:" outside a cell)
_TAIL = re.compile(r"(?:cell (\d+):)?(\d+):(\d+): ([A-Z]+[0-9]+|[a-z]+(?:-[a-z]+)*):? "
                   r"(?:\[\*\] )?(.*)")
_PATH = re.compile(r"(.+?):(?:cell \d+:)?\d+:\d+: ")


@dataclass
class RuffRun:
    """ruff running in the background over some notebooks; :meth:`result` waits for it.

    As a context manager it starts ruff, and on the way out stops it if nobody waited.
    """

    paths: Sequence[Path]
    select: Sequence[str]
    shown: dict[str, str]  # path as given (or resolved) -> path as findings print it
    threads: int | None = None  # ruff's thread pool (RAYON_NUM_THREADS, unless set already)
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
        out = tempfile.TemporaryFile()  # noqa: SIM115 - both are closed by result()
        err = tempfile.TemporaryFile()  # noqa: SIM115
        self._files = [out, err]
        try:
            self._proc = subprocess.Popen(self._command("concise"), stdin=subprocess.DEVNULL,
                                          stdout=out, stderr=err, cwd="/", env=self._env())
        except OSError as exc:
            self._close()
            raise InfraError(f"cannot run ruff: {exc}") from exc
        return self

    def _env(self) -> dict[str, str] | None:
        if self.threads is None or "RAYON_NUM_THREADS" in os.environ:
            return None
        return {**os.environ, "RAYON_NUM_THREADS": str(self.threads)}

    def _command(self, output_format: str) -> list[str]:
        from ruff.__main__ import find_ruff_bin

        return [find_ruff_bin(), "check", "--isolated", "--no-cache", "--exit-zero", "--quiet",
                "--output-format", output_format, "--select", ",".join(self.select), "--",
                *(os.path.abspath(path) for path in self.paths)]

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
        _check_exit(code, err)
        found = _concise(out, self.shown)
        return found if found is not None else self._json_report()

    def _json_report(self) -> dict[str, list[Finding]]:
        try:
            done = subprocess.run(self._command("json"), stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=_TIMEOUT, check=False,
                                  env=self._env())
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InfraError(f"cannot run ruff: {exc}") from exc
        _check_exit(done.returncode, done.stderr)
        return _findings(json.loads(done.stdout or b"[]"), self.shown)

    @staticmethod
    def _read(file: IO[bytes]) -> bytes:
        file.seek(0)
        return file.read()

    def _close(self) -> None:
        for file in self._files:
            file.close()
        self._files = []


def _check_exit(code: int, err: bytes) -> None:
    if code != 0:
        last = err.decode(errors="replace").strip().splitlines()[-1:] or ""
        raise InfraError(f"ruff failed (exit {code}): {last}")


def _concise(out: bytes, shown: dict[str, str]) -> dict[str, list[Finding]] | None:
    """Findings from ruff's concise report (run from ``/``), or None if a line does not
    read as one of a file that was given."""
    named = {os.path.abspath(given)[1:]: path for given, path in shown.items()}
    nested = _nested(named)
    findings: dict[str, list[Finding]] = {}
    severity = RUFF_SEVERITY.get
    printed, path = "", ""
    for line in out.decode("utf-8", "replace").splitlines():
        if nested or not (printed and line.startswith(printed)
                          and line[len(printed):][:1] == ":"):
            printed = _printed_path(line, named, nested)
            if not printed:
                return None
            path = named[printed]
        parts = _TAIL.fullmatch(line, len(printed) + 1)
        if parts is None:
            return None
        cell, row, column, code, message = parts.groups()
        if code == "invalid-syntax":
            code = "E999"
        findings.setdefault(path, []).append(Finding(
            path, int(cell) - 1 if cell else None, int(row), code, severity(code, "warning"),
            message, int(column)))
    return findings


def _nested(names: Iterable[str]) -> bool:
    """Whether a name followed by ":" begins another (then a line's file is the longest
    given name it starts with, never the first that fits)."""
    ordered = sorted(names)
    for name in ordered:
        after = bisect.bisect_left(ordered, f"{name}:")
        if after < len(ordered) and ordered[after].startswith(f"{name}:"):
            return True
    return False


def _printed_path(line: str, named: dict[str, str], nested: bool = False) -> str:
    """The given file a report line is about ("" if none): the text before the first
    location, else (or if names are ``nested``) the longest given name the line starts with
    whose rest reads as a finding."""
    first = None if nested else _PATH.match(line)
    if first is not None and first.group(1) in named:
        return first.group(1)
    fits = [name for name in named if line.startswith(f"{name}:")
            and _TAIL.fullmatch(line, len(name) + 1)]
    return max(fits, key=len, default="")


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
