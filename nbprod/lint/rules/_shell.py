"""Shell escapes and package installs in code cells, shared by NBP304 and NBP307.

One pass over a cell's lines classifies each as a package install, another shell command,
or neither, so the two rules agree on which line is which; the two rules ask for each cell in
turn, so the last cells' answers are kept (the second asks about the same strings).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Literal

Kind = Literal["install", "shell"]

# `pip install`, `python -m pip install`, `uv pip install`, `conda -y install`, `apt-get install`.
_INSTALL = re.compile(r"(?<![\w-])(?:pip3?|conda|mamba|micromamba|apt-get|apt|yum|dnf|apk)"
                      r"(?:\s+-{1,2}[\w=-]+)*\s+install\b")
# subprocess argument lists: ["pip", "install", ...] or [..., "-m", "pip", "install"].
_INSTALL_ARGV = re.compile(r"[\"']pip3?[\"']\s*,\s*(?:[\"']-[\w=-]+[\"']\s*,\s*)*"
                           r"[\"']install[\"']")
_PROCESS = re.compile(r"\b(?:subprocess|system|popen|Popen|check_call|check_output|run|call)\b")
# `!cmd` and `files = !ls`; `%pip` / `%conda` / `%mamba` / `%uv` line magics.
_BANG = re.compile(r"\s*(?:[A-Za-z_][\w.]*\s*=\s*)?!(?!=)(.*)")
_INSTALL_MAGIC = re.compile(r"\s*%(?:pip|conda|mamba|micromamba|uv)\b(.*)")
_SHELL_LINE_MAGIC = re.compile(r"\s*(?:[A-Za-z_][\w.]*\s*=\s*)?%(?:system|sx)\b")
_SHELL_CELL_MAGIC = re.compile(r"\s*%%(?:bash|sh|script|system)\b")


def shell_lines(source: str) -> Iterator[tuple[int, Kind, str]]:
    """``(line from 1, kind, the line stripped)`` of each install or shell line of a cell."""
    return iter(_classified(source))


@functools.lru_cache(maxsize=512)
def _classified(source: str) -> tuple[tuple[int, Kind, str], ...]:
    if "!" not in source and "%" not in source and "install" not in source:
        return ()
    return tuple(_scan(source))


def _scan(source: str) -> Iterator[tuple[int, Kind, str]]:
    lines = source.splitlines()
    if lines and _SHELL_CELL_MAGIC.match(lines[0]):
        body = [(n, line) for n, line in enumerate(lines[1:], start=2) if line.strip()]
        installs = [(n, line) for n, line in body if _INSTALL.search(line)]
        if len(installs) < len(body) or not body:
            yield 1, "shell", lines[0].strip()
        for number, line in installs:
            yield number, "install", line.strip()
        return
    python = "subprocess" in source or "system(" in source or "popen(" in source.lower()
    for number, line in enumerate(lines, start=1):
        if not python and "!" not in line and "%" not in line:
            continue  # every pattern below needs one of them, or a process call
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        bang = _BANG.match(line)
        if bang is not None:
            kind: Kind = "install" if _INSTALL.search(bang.group(1)) else "shell"
            yield number, kind, stripped
        elif (magic := _INSTALL_MAGIC.match(line)) is not None:
            if _INSTALL.search(f"pip {magic.group(1)}") or " install" in magic.group(1):
                yield number, "install", stripped
        elif _SHELL_LINE_MAGIC.match(line):
            yield number, "shell", stripped
        elif python and (_INSTALL_ARGV.search(line) or (
                _INSTALL.search(line) and _PROCESS.search(line))):
            yield number, "install", stripped
