"""``nbprod lint --fix``: the safe fixes, written atomically, or shown as a diff.

Two fixes are safe because they change nothing a run depends on:

- clear every code cell's outputs and execution count (fixes hidden state, saved errors,
  oversized outputs and secrets in outputs: NBP201, NBP202, NBP203, NBP303);
- tag the parameters cell when it is unambiguous (NBP101: the first code cell holds only
  literal assignments).

The file is rewritten the way nbformat writes it (one-space indent, sorted keys), to a temp
file beside it, fsynced and renamed into place.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model import Finding

CLEAR_OUTPUTS = frozenset({"NBP201", "NBP202", "NBP203", "NBP303"})
TAG_PARAMETERS = "NBP101"


@dataclass(frozen=True)
class FixResult:
    path: Path
    changed: bool
    diff: str
    applied: tuple[str, ...]


def fix_notebook(path: Path, findings: Iterable[Finding], *, write: bool) -> FixResult:
    """Apply the safe fixes that ``findings`` (of this file, fixable) call for."""
    codes = {f.code for f in findings if f.fixable}
    original = path.read_text(encoding="utf-8")
    data = json.loads(original)
    applied = []
    if codes & CLEAR_OUTPUTS and _clear_outputs(data):
        applied.append("cleared outputs and execution counts")
    if TAG_PARAMETERS in codes and _tag_parameters(data):
        applied.append("tagged the parameters cell")
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    changed = bool(applied) and text != original
    diff = "".join(difflib.unified_diff(original.splitlines(keepends=True),
                                        text.splitlines(keepends=True),
                                        fromfile=f"{path} (before)", tofile=f"{path} (fixed)",
                                        n=2)) if changed else ""
    if changed and write:
        _write_atomic(path, text)
    return FixResult(path=path, changed=changed, diff=diff, applied=tuple(applied))


def _clear_outputs(data: dict[str, Any]) -> bool:
    changed = False
    for cell in data.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            changed = True
        cell["outputs"] = []
        cell["execution_count"] = None
    return changed


def _tag_parameters(data: dict[str, Any]) -> bool:
    cells = data.get("cells", [])
    if any("parameters" in (c.get("metadata") or {}).get("tags", []) for c in cells):
        return False
    first = next((c for c in cells if c.get("cell_type") == "code"), None)
    if first is None:
        return False
    tags = first.setdefault("metadata", {}).setdefault("tags", [])
    tags.append("parameters")
    return True


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.nbprod-fix.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
