"""Lint notebooks: find them, read them, run the rules and ruff, filter, and cache.

The cost that matters is re-linting a folder where little changed (CI, pre-commit), so
results are cached per file content (see :mod:`.cache`) and an unchanged notebook costs a read
and a hash. The rest are shared between a process per core (:mod:`.parallel`); each decodes
and checks its share while ruff runs over the same files in the background, and sends back
finished results.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..errors import NotebookInvalid, NotFound
from ..notebook.version import cells_version
from .cache import LintCache
from .catalog import RuleSet
from .config import LintConfig
from .model import FileResult, Finding, LintContext, LintNotebook, findings_digest
from .parallel import cores, share_count, split_map
from .ruff import RuffRun
from .schema import schema_error

# "# nbprod: noqa" alone, or followed by codes on the same line ("NBP101, NBP105").
_NOQA = re.compile(r"#[ \t]*nbprod:[ \t]*noqa\b(?::?[ \t]*((?:[A-Z]+[0-9]+[ \t,]*)+))?")
_CELL_TYPES = frozenset({"code", "markdown", "raw"})


@dataclass(frozen=True)
class LintReport:
    files: tuple[FileResult, ...]
    config: LintConfig
    fixed: tuple[str, ...] = field(default_factory=tuple)

    @property
    def findings(self) -> list[Finding]:
        return [f for result in self.files for f in result.findings]

    @property
    def failed(self) -> bool:
        return any(self.config.fails(f.severity) for f in self.findings)

    def counts(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0}
        for item in self.findings:
            counts[item.severity] += 1
        return counts


def discover(paths: Sequence[Path], config: LintConfig) -> list[Path]:
    """The .ipynb files named or found under folders, skipping excluded and hidden folders
    (as resolved paths, each once; a symbolic link to a folder is not followed)."""
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path.resolve())
        elif path.is_dir():
            _walk(path.resolve(), config, found)
        else:
            raise NotFound(f"no such file or folder: {path}")
    return list(dict.fromkeys(found))


def _walk(folder: Path, config: LintConfig, found: list[Path]) -> None:
    """``folder``'s notebooks (sorted), then its folders' in turn. ``folder`` is resolved, so
    only a file that is itself a link needs resolving (one ``stat`` per file, not one per
    part of its path)."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError:
        return  # as os.walk: a folder that cannot be listed is passed over
    folders = []
    for entry in entries:
        if entry.is_dir():
            if not entry.is_symlink() and entry.name not in config.exclude \
                    and not entry.name.startswith("."):
                folders.append(entry.name)
        elif entry.name.endswith(".ipynb"):
            path = folder / entry.name
            found.append(path.resolve() if entry.is_symlink() else path)
    for name in folders:
        _walk(folder / name, config, found)


def lint_files(files: Sequence[Path], *, root: Path, config: LintConfig, rules: RuleSet,
               context: LintContext, cache: LintCache | None = None,
               workers: int | None = None) -> LintReport:
    """Lint ``files`` (absolute paths); findings name them relative to ``root``.

    With a cache, each notebook is read and hashed here, once, to look it up; the ones not
    in it are shared between ``workers`` processes (default: one per core), each decoding
    its share once (schema, rules, ``noqa`` comments, version, the findings' digest) while
    ruff runs over it in the background. Without a cache, each process also reads and
    hashes its own share.
    """
    results: dict[str, FileResult] = {}
    todo: list[_Todo] = []
    if cache is None:  # each share reads its own notebooks
        order = [_shown(path, root) for path in files]
        todo = [_Todo(shown, path) for shown, path in zip(order, files, strict=True)]
    else:
        order = []
        for path in files:
            shown, data, sha = _read(path, root)
            order.append(shown)
            hit = cache.get(sha, shown)
            if hit is not None:
                results[shown] = hit
            else:
                todo.append(_Todo(shown, path, sha, data))
    if todo:
        # the validators compiled once, before any fork
        schema_error({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []})
    # each share runs ruff beside its rules: ruff gets the cores the shares leave free (at
    # least one thread); a thread pool wider than that costs ruff half as much CPU again
    shares = share_count(len(todo), workers=workers)
    threads = max(1, (cores() - shares) // shares)
    for result in split_map(todo, lambda share: _lint_share(share, rules, context, config,
                                                            threads),
                            workers=workers):
        results[result.path] = result
        if cache is not None:
            cache.put(result)
    ordered = [results[shown] for shown in order]
    return LintReport(files=tuple(ordered), config=config)


def _lint_share(share: Sequence[_Todo], rules: RuleSet, context: LintContext,
                config: LintConfig, ruff_threads: int | None = None) -> list[FileResult]:
    """Lint some notebooks in this process: ruff over them in the background (it reports
    unreadable files too; their findings are dropped) while the rules run here."""
    ruff = RuffRun(paths=[item.path for item in share] if config.ruff else [],
                   select=config.ruff_select, shown={str(item.path): item.shown for item in share},
                   threads=ruff_threads)
    with ruff:
        checked = [_check(item, rules, context, config) for item in share]
        python = ruff.result()
    results = []
    for done in checked:
        findings = done.own + (python.get(done.shown, []) if done.version is not None else [])
        findings = sorted(_filter(findings, done.noqa, config), key=_order)
        results.append(FileResult(done.shown, done.sha, done.version, tuple(findings),
                                  digest=findings_digest(findings)))
    return results


@dataclass(frozen=True)
class _Todo:
    """A notebook to lint: its name as shown, its path, and its content with its SHA-256 if
    already read (to look it up in the cache)."""

    shown: str
    path: Path
    sha: str = ""
    raw: bytes | None = None

    def read(self) -> tuple[bytes, str]:
        if self.raw is not None:
            return self.raw, self.sha
        data = _read_bytes(self.path)
        return data, hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class _Checked:
    """One notebook checked (what a worker sends back): the rules' findings, the noqa
    comments, and the version (None: not a notebook, ``own`` says why)."""

    shown: str
    sha: str
    own: list[Finding]
    noqa: dict[int, set[str]] | None
    version: str | None


def _check(item: _Todo, rules: RuleSet, context: LintContext,
           config: LintConfig) -> _Checked:
    raw, sha = item.read()
    notebook = _parse(item.path, item.shown, raw, _loads(raw))
    if isinstance(notebook, Finding):  # settings apply, noqa comments cannot be read
        return _Checked(item.shown, sha, [notebook], None, None)
    own = list(_run_rules(notebook, rules, context))
    return _Checked(item.shown, sha, own, _noqa(notebook), _version(notebook))


def _version(notebook: LintNotebook) -> str:
    """The notebook's version (:func:`~nbprod.notebook.version.notebook_version`) from the
    cells already read."""
    spec = notebook.kernelspec or {}
    return cells_version(spec.get("name", ""),
                         ((c.cell_type, c.tags, c.source) for c in notebook.cells))


def _loads(raw: bytes) -> Any:
    """The JSON, or None. orjson reads a notebook in a third of the time; what it refuses
    and the standard library reads (NaN, a byte order mark, UTF-16, lone surrogates) is read
    by the standard library. orjson reads an integer past 64 bits as a float: where the
    schema wants an integer, the notebook then fails :func:`_parse`'s schema check and is
    read again by ``nbprod run``'s reader; elsewhere (metadata, output data) no rule reads
    its digits."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _order(item: Finding) -> tuple[Any, ...]:
    return (item.cell if item.cell is not None else -1, item.line or 0, item.code)


def _read(path: Path, root: Path) -> tuple[str, bytes, str]:
    data = _read_bytes(path)
    return _shown(path, root), data, hashlib.sha256(data).hexdigest()


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}") from None


def _shown(path: Path, root: Path) -> str:
    """How findings name ``path``: relative to the project's root if under it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _parse(path: Path, shown: str, raw: bytes, data: Any) -> LintNotebook | Finding:
    """A LintNotebook, or the NBP001 finding saying why the file is not a notebook."""
    if _sound_v45(data):
        error = schema_error(data)
        if error is None:
            return LintNotebook.from_json(path, shown, data, len(raw))
    # Anything unusual (old versions, schema errors, broken JSON) goes through the same
    # reader `nbprod run` uses, which upgrades what it can and says what is wrong.
    from ..notebook.load import parse_notebook

    try:
        node = parse_notebook(raw.decode("utf-8", errors="replace"), shown)
    except NotebookInvalid as exc:
        return Finding(path=shown, cell=None, line=None, code="NBP001", severity="error",
                       message=exc.one_line().removeprefix(f"{shown}: "))
    return LintNotebook.from_json(path, shown, node, len(raw))


def _sound_v45(data: Any) -> bool:
    """The cheap structural test: a v4.5 notebook whose cells look like cells."""
    if not isinstance(data, dict) or data.get("nbformat") != 4 or \
            data.get("nbformat_minor", 0) < 5 or not isinstance(data.get("metadata"), dict):
        return False
    cells = data.get("cells")
    if not isinstance(cells, list):
        return False
    return all(isinstance(c, dict) and c.get("cell_type") in _CELL_TYPES
               and isinstance(c.get("source"), (str, list))
               and isinstance(c.get("metadata"), dict) for c in cells)


def _run_rules(notebook: LintNotebook, rules: RuleSet,
               context: LintContext) -> Iterable[Finding]:
    for rule in rules:
        yield from rule.check(notebook, context)


def _filter(findings: list[Finding], noqa: dict[int, set[str]] | None,
            config: LintConfig) -> list[Finding]:
    """Apply select/ignore, per-file ignores, severity overrides and ``# nbprod: noqa``
    (``noqa``: cell index -> codes silenced there; None for a file that is not a notebook)."""
    noqa = noqa or {}
    anywhere = set().union(*noqa.values()) if noqa else set()
    enabled: dict[tuple[str, str], bool] = {}  # asked once per code and path
    kept = []
    for item in findings:
        code = item.code
        on = enabled.get((code, item.path))
        if on is None:
            on = enabled[code, item.path] = config.enabled(code, item.path)
        if not on:
            continue
        if item.cell is not None and item.cell in noqa:
            codes = noqa[item.cell]
            if not codes or code in codes:
                continue
        if item.cell is None and code in anywhere:
            continue
        severity = config.severity_of(code, item.severity)
        kept.append(item if severity == item.severity else item._replace(severity=severity))
    return kept


def _noqa(notebook: LintNotebook) -> dict[int, set[str]]:
    """Cell index -> codes silenced there (an empty set silences every code in the cell)."""
    found: dict[int, set[str]] = {}
    for cell in notebook.cells:
        for match in _NOQA.finditer(cell.source):
            codes = {c for c in re.split(r"[,\s]+", (match.group(1) or "").strip()) if c}
            found.setdefault(cell.index, set()).update(codes)
            if not codes:
                found[cell.index] = set()
    return found
