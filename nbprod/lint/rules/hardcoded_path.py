"""NBP301: a string literal holding a home-folder or absolute file path."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model import Finding, LintContext, LintNotebook, Severity, finding
from ._source import Hints, string_literals

# A user's home, on Linux, macOS, Windows (either slash, doubled backslashes), or as ~/.
# A quote right before "/", "~/" or "C:\\": the only literals that can be such paths.
_CANDIDATE = re.compile(r"""["'](?:/|~[/\\]|[A-Za-z]:[/\\])""")
# What each candidate holds: a notebook with none of these has none (one pass over its code,
# where the regex above stops at every quote).
_STARTS = Hints(("'/", '"/', "~/", "~\\", ":/", ":\\"))
_HOME = re.compile(r"(?:/home/|/Users/|/root/|~[/\\]|[A-Za-z]:(?:\\\\|\\|/)Users(?:\\\\|\\|/))"
                   r"[^\s]")
# Any other drive path: C:\data\x.csv, D:/models (not "a:\n", an escape after a label).
_DRIVE = re.compile(r"[A-Za-z]:(?:\\\\|/|\\(?![ntr0]))[^\s\\/]")
# /data/raw/x.csv: absolute, two segments or more, the last with an extension.
_ABSOLUTE_FILE = re.compile(r"/[^\s/]+(?:/[^\s/]+)*/[^\s/]+\.[A-Za-z][A-Za-z0-9]{0,7}")
_SYSTEM = ("/tmp/", "/dev/", "/proc/", "/sys/", "/var/tmp/")
# Characters that make a literal a regular expression or a glob rather than a path (a
# Windows path may hold parentheses and backslashes, a Unix one not in practice).
_PATTERN_CHARS = re.compile(r"[\^$*+?\[\]|]")
_UNIX_PATTERN_CHARS = re.compile(r"[()]|\\[dwsbDWSB.]")
_MAX_SHOWN = 60


class HardCodedPath:
    """Code should not name files by absolute or home-folder paths.

    ``"/home/alice/data/sales.csv"`` or ``"C:\\\\Users\\\\bob\\\\model.pkl"`` exist on one machine:
    the scheduler, a colleague or CI fail with ``FileNotFoundError``, or worse, read a stale
    copy. Make the location a parameter (``data_dir: str = "data/raw"``), relative to the
    notebook or project, or read it from settings. Temporary (``/tmp``) and device paths,
    URLs and regular expressions are not reported.

    Bad:  ``pd.read_csv("/Users/bob/Downloads/sales.csv")``
    Good: ``data_dir: str = "data/raw"`` in the parameters cell, then
          ``pd.read_csv(Path(data_dir) / "sales.csv")``
    """

    code = "NBP301"
    name = "hard-coded-path"
    severity: Severity = "warning"
    summary = "a string literal holds an absolute or home-folder path"

    def check(self, notebook: LintNotebook, context: LintContext) -> Iterator[Finding]:
        if not _STARTS.any("\n".join(c.source for c in notebook.code_cells)):
            return
        for cell in notebook.code_cells:
            source = cell.source
            if not _CANDIDATE.search(source):
                continue
            for line, _prefix, text in string_literals(source):
                kind = classify_path(text)
                if kind is not None:
                    shown = text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…"
                    yield finding(self, notebook, f"hard-coded {kind} '{shown}': it exists on "
                                  "one machine only; make it a parameter or a relative path",
                                  cell=cell.index, line=line)


def classify_path(text: str) -> str | None:
    """``"home-folder path"``, ``"absolute path"`` or None for a string literal's text."""
    if len(text) < 3 or "\n" in text or "://" in text or _PATTERN_CHARS.search(text):
        return None
    if _HOME.match(text):
        return "home-folder path"
    if _DRIVE.match(text):
        return "absolute path"
    if text.startswith("/") and not text.startswith(_SYSTEM) and \
            _ABSOLUTE_FILE.fullmatch(text) and not _UNIX_PATTERN_CHARS.search(text):
        return "absolute path"
    return None
