"""Read a notebook file into a validated nbformat v4 document, and identify its version.

Reading is strict: a file that is not JSON, not a notebook, or not valid against nbformat's
schema is a :class:`~nbprod.errors.NotebookInvalid` naming the file and the reason; v3 and
older v4 minor versions are upgraded in memory, never on disk.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import NotebookInvalid
from ._nbformat import nbformat
from .version import notebook_version

PARAMETERS_TAG = "parameters"
_CELL_ID = re.compile(r"[a-zA-Z0-9-_]{1,64}")
INJECTED_TAG = "injected-parameters"


@dataclass(frozen=True)
class Notebook:
    """A validated v4 notebook and what nbprod derives from it."""

    path: Path
    node: Any  # nbformat.NotebookNode (untyped library object)
    version: str
    notes: tuple[str, ...] = ()  # what was normalized in memory to read it

    @property
    def cells(self) -> list[Any]:
        return list(self.node.cells)

    @property
    def kernel_name(self) -> str | None:
        spec = self.node.metadata.get("kernelspec") or {}
        name = spec.get("name")
        return str(name) if name else None

    @property
    def parameters_cells(self) -> list[int]:
        """Indexes of the cells tagged ``parameters``."""
        return [i for i, cell in enumerate(self.node.cells)
                if PARAMETERS_TAG in cell.get("metadata", {}).get("tags", [])]


def read_notebook(path: Path) -> Notebook:
    """Read, validate and upgrade the notebook at ``path``.

    Raises
    ------
    NotebookInvalid
        The file is missing, not JSON (for instance truncated), not a notebook, of an
        unsupported nbformat version, or not valid against the nbformat schema. A file
        Jupyter was saving at that moment is read again once the save ends.
    """
    shown = str(path)
    notes: list[str] = []
    try:
        node = parse_notebook(_read_text(path, shown), shown, notes)
    except NotebookInvalid:
        if not _saved_after(path):
            raise
        notes = []  # read again: what the save that was under way wrote
        node = parse_notebook(_read_text(path, shown), shown, notes)
    return Notebook(path=path, node=node, version=notebook_version(node), notes=tuple(notes))


# Jupyter's contents manager saves a notebook in place: it copies the old file to ``.~NAME``,
# rewrites NAME, then removes the copy. A reader in between sees part of the new file.
SAVE_WAIT = 2.0  # seconds a save under way is waited for


def _saved_after(path: Path) -> bool:
    """Whether a Jupyter save of ``path`` was under way, and has ended since (waited for up
    to ``SAVE_WAIT`` seconds)."""
    copy = path.with_name(f".~{path.name}")
    if not copy.exists():
        return False
    deadline = time.monotonic() + SAVE_WAIT
    while copy.exists():
        if time.monotonic() > deadline:
            return False  # a save that crashed left its copy: the file is what it is
        time.sleep(0.02)
    return True


def _read_text(path: Path, shown: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotebookInvalid(shown, "no such file") from None
    except IsADirectoryError:
        raise NotebookInvalid(shown, "is a folder, not a notebook file") from None
    except UnicodeDecodeError as exc:
        raise NotebookInvalid(shown, f"not UTF-8 text ({exc.reason} at byte {exc.start})") \
            from None
    except OSError as exc:
        raise NotebookInvalid(shown, f"cannot read: {exc.strerror}") from None


def parse_notebook(text: str, shown: str, notes: list[str] | None = None) -> Any:
    """Parse notebook JSON text into a validated v4 ``NotebookNode``.

    What had to be normalized to read it (never on disk) is appended to ``notes``.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"not valid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})"
        end = len(text.rstrip())
        truncated = exc.pos >= end - 1 or not text.rstrip().endswith("}")
        hint = "the file looks truncated: restore it from version control" if truncated \
            else "fix the JSON or restore the file"
        raise NotebookInvalid(shown, reason, hint=hint) from None
    except RecursionError:
        raise NotebookInvalid(shown, "its JSON is nested too deeply to read") from None
    if _SURROGATE_ESCAPE.search(text):  # rare: check precisely only then
        _check_text(data, shown)
    if not isinstance(data, dict) or "nbformat" not in data:
        raise NotebookInvalid(shown, "not a Jupyter notebook (no 'nbformat' field)")
    major = data.get("nbformat")
    if major not in (3, 4):
        raise NotebookInvalid(shown, f"nbformat version {major!r} is not supported (3 or 4)")
    if major == 4 and _ids_before_v45(data):
        data = _as_v45(data)
        if notes is not None:
            notes.append(f"{shown} is marked nbformat 4.{data['_declared_minor']} but its cells "
                         "carry ids (written by a newer tool): read as 4.5")
        del data["_declared_minor"]
    # Validate the document as written first: nbformat's converters assume a sound structure.
    _validate(nbformat.from_dict(data), shown)
    try:
        # The version's reader rejoins multi-line sources into strings, as nbformat.read does.
        original = nbformat.versions[major].to_notebook_json(data)
        minor = original.get("nbformat_minor", 0)
        if major == 3 or minor < 5:
            node = nbformat.convert(original, 4)
            if node.get("nbformat_minor", 0) < 5:
                node = nbformat.v4.upgrade(node, from_version=4,
                                           from_minor=node.get("nbformat_minor", 0))
        else:
            node = original
    except (TypeError, AttributeError, AssertionError, KeyError, ValueError) as exc:
        raise NotebookInvalid(shown, f"is not a valid notebook structure ({type(exc).__name__}: "
                                     f"{str(exc)[:80]})") from None
    _validate(node, shown)
    return node


def _ids_before_v45(data: dict[str, Any]) -> bool:
    minor = data.get("nbformat_minor", 0)
    cells = data.get("cells")
    return isinstance(minor, int) and minor < 5 and isinstance(cells, list) and any(
        isinstance(cell, dict) and "id" in cell for cell in cells)


def _as_v45(data: dict[str, Any]) -> dict[str, Any]:
    """A 4.0-4.4 document whose cells carry ids, as the 4.5 document it is: the ids a 4.5
    reader accepts are kept, missing, malformed or repeated ones are generated (as nbformat's
    own normalizer does), so JupyterLab's files are never refused for them."""
    from nbformat.corpus.words import generate_corpus_id

    seen: set[str] = set()
    cells = []
    for cell in data["cells"]:
        if isinstance(cell, dict):
            cell = dict(cell)
            cell_id = cell.get("id")
            if not (isinstance(cell_id, str) and _CELL_ID.fullmatch(cell_id)) or cell_id in seen:
                cell_id = generate_corpus_id()
            cell["id"] = cell_id
            seen.add(cell_id)
        cells.append(cell)
    return {**data, "cells": cells, "nbformat_minor": 5,
            "_declared_minor": data.get("nbformat_minor", 0)}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _check_text(data: Any, shown: str) -> None:
    """Refuse lone surrogates (``"\\ud800"`` in the JSON): valid JSON, but no UTF-8 can hold
    them, so the output notebook could not be written."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        where = next((f"cell {i}" for i, cell in enumerate(data.get("cells") or [])
                      if _has_surrogate(cell)), "its metadata") if isinstance(data, dict) \
            else "its text"
        raise NotebookInvalid(shown, f"{where} holds an invalid character "
                                     f"({exc.object[exc.start:exc.end]!a}, a lone surrogate)",
                              hint="remove or replace that character") from None
    except RecursionError:
        raise NotebookInvalid(shown, "its JSON is nested too deeply to read") from None


def _has_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _validate(node: Any, shown: str) -> None:
    try:
        nbformat.validate(node)
    except nbformat.ValidationError as exc:
        raise NotebookInvalid(shown, f"does not match the nbformat schema: {_schema_problem(exc)}",
                              hint="open and re-save it in JupyterLab, or fix that field") \
            from None
    except (TypeError, AttributeError, AssertionError, KeyError, ValueError) as exc:
        raise NotebookInvalid(shown, f"is not a valid notebook structure ({type(exc).__name__}: "
                                     f"{str(exc)[:80]})") from None


def _schema_problem(exc: Any) -> str:
    """Where the schema error is (cell N, field) and what, in one short phrase."""
    path = list(exc.absolute_path)
    instance = exc.instance
    if len(path) >= 2 and path[0] == "cells" and isinstance(path[1], int):
        where = f"cell {path[1]}" + (f" field {'/'.join(map(str, path[2:]))}" if path[2:] else "")
        if len(path) == 2 and isinstance(instance, dict):
            kind = instance.get("cell_type")
            if kind not in ("code", "markdown", "raw"):
                return f"{where} has unknown cell_type {kind!r}"
            return f"{where} is not a valid {kind} cell (a required field is missing or wrong)"
    else:
        where = "/".join(map(str, path)) or "top level"
    message = str(exc.message).splitlines()[0]
    return f"{where}: {message[:120]}"
