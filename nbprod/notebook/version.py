"""A notebook's version: the SHA-256 of what determines its behaviour. Pure and cheap.

Works on nbformat nodes and on plain dicts from ``json.loads`` alike, so the linter can
version thousands of notebooks without importing nbformat.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

# ASCII characters other than "\n" that end a line for str.splitlines
_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e")
# ASCII whitespace that str.rstrip strips before a "\n" or at the end
_TRAILING = ("\x1f", " \n", "\t\n")


def notebook_version(node: Any) -> str:
    """SHA-256 of the kernel name and each cell's type, tags and source.

    Outputs, execution counts and volatile metadata are excluded, so executing or re-saving
    a notebook does not change its version; editing any cell does.
    """
    spec = node["metadata"].get("kernelspec") or {}
    return cells_version(spec.get("name", ""), (
        (cell["cell_type"], (cell.get("metadata") or {}).get("tags", []), cell_source(cell))
        for cell in node["cells"]))


def cells_version(kernel: str, cells: Iterable[tuple[str, Iterable[str], str]]) -> str:
    """:func:`notebook_version` from the kernel name and each cell's ``(type, tags,
    source)``, the source as :func:`cell_source` gives it (the linter has them already)."""
    parts = [f"kernel:{kernel}\n"]
    for cell_type, tags, text in cells:
        source = normalized_source(text)
        parts.append(f"{cell_type}\x00{','.join(sorted(tags))}\x00{len(source)}\x00{source}\n")
    return hashlib.sha256("".join(parts).encode()).hexdigest()


def normalized_source(text: str) -> str:
    """``text`` with each line's trailing whitespace and the blank lines at both ends removed
    (lines as ``str.splitlines`` splits them, joined by ``"\\n"``)."""
    if text.isascii() and not mentions(text, _BREAKS) and not mentions(text, _TRAILING) and \
            not text.endswith((" ", "\t")):  # the usual source: nothing to strip in its lines
        return text.strip("\n")
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def mentions(text: str, words: tuple[str, ...]) -> bool:
    """Whether any of ``words`` occurs in ``text`` (lint's rules use it too)."""
    for word in words:  # noqa: SIM110 - a plain loop costs half of any() over a generator
        if word in text:
            return True
    return False


def cell_source(cell: Any) -> str:
    """A cell's source as one string (v4 allows a list of lines)."""
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) else str(source)
    return text.replace("\r\n", "\n")
