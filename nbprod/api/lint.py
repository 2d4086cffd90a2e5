"""Use case: lint notebooks, optionally fix them, and record the results per notebook version.

Recording is what lets ``nbprod promote`` require "lint clean for exactly this version". A
result already recorded in this registry for the same content and settings is not recorded
again, so re-linting an unchanged folder neither opens the database nor grows it.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import collector
from ..about import __version__
from ..lint.cache import LintCache
from ..lint.catalog import RuleSet
from ..lint.config import LintConfig
from ..lint.engine import LintReport, discover, lint_files
from ..lint.fix import FixResult, fix_notebook
from ..lint.kernels import installed_kernels
from ..lint.model import FileResult, LintContext
from ..lint.rules import import_builtin
from ..records import CheckRecord
from .project import Project

import_builtin()  # the warm nbprod imports this module: its children find the rules loaded


@dataclass(frozen=True)
class LintOutcome:
    report: LintReport
    fixes: tuple[FixResult, ...] = field(default_factory=tuple)
    recorded: int = 0  # results added to the registry (an equal latest one is not added again)


def lint_notebooks(project: Project, paths: Sequence[Path], config: LintConfig, *,
                   rules: RuleSet | None = None, use_cache: bool = True, record: bool = True,
                   fix: bool = False, write: bool = True) -> LintOutcome:
    """Lint the notebooks under ``paths``; with ``fix``, apply the safe fixes first.

    ``write=False`` with ``fix`` computes the fixes (their diffs) without touching files.
    Results are recorded in the project's registry (as its acting user) unless ``record`` is
    false; the registry is opened only if something is new to record. ``use_cache`` keeps
    results per file content under the project's ``.nbprod/cache``.
    """
    root = project.root
    cache_dir = project.cache_dir if use_cache else None
    rules = rules or RuleSet.from_entry_points()
    kernels = installed_kernels()
    context = LintContext(max_output_bytes=config.max_output_bytes,
                          max_notebook_bytes=config.max_notebook_bytes,
                          installed_kernels=kernels)
    cache = _cache(cache_dir, config, rules, kernels) if cache_dir is not None else None
    files = discover(paths, config)
    # decoded notebooks, cells, findings and records: many objects, no cycles to find
    with collector.paused():
        report = lint_files(files, root=root, config=config, rules=rules, context=context,
                            cache=cache)
        fixes: list[FixResult] = []
        if fix:
            fixes = _fix(report, root, write=write)
            if write and any(f.changed for f in fixes):
                report = lint_files(files, root=root, config=config, rules=rules,
                                    context=context, cache=cache)
        recorded = 0
        if record and not (fix and not write):
            recorded = _record(report, project, cache, config)
        if cache is not None:
            cache.save()
    return LintOutcome(report=report, fixes=tuple(fixes), recorded=recorded)


def _cache(folder: Path, config: LintConfig, rules: RuleSet,
           kernels: frozenset[str]) -> LintCache:
    from ..lineage import environment_key

    return LintCache(folder, [__version__, environment_key(), config.digest(),
                              ",".join(r.code for r in rules), ",".join(sorted(kernels)),
                              _code_stamp(rules)])


def _code_stamp(rules: RuleSet) -> str:
    """Modification times of the linter's modules (``nbprod/lint`` and its rules, with the
    helpers they share), of the notebook code it uses (versions, parameters cells) and of
    plugin rules' modules.

    A released nbprod is covered by its version; this catches rules and linter code edited
    in place (editable installs, a plugin in development).
    """
    import sys

    from .. import lint
    from ..notebook import contract, version

    folder = Path(lint.__file__).parent
    files = {str(f) for pattern in ("*.py", "rules/*.py") for f in folder.glob(pattern)}
    files |= {str(contract.__file__), str(version.__file__)}
    for rule in rules:
        path = getattr(sys.modules.get(type(rule).__module__), "__file__", None)
        if path:
            files.add(path)
    stamps = []
    for path in sorted(files):
        try:
            stamps.append(f"{path}:{os.stat(path).st_mtime_ns}")
        except OSError:
            stamps.append(path)
    return ";".join(stamps)


def _fix(report: LintReport, root: Path, *, write: bool) -> list[FixResult]:
    results = []
    for result in report.files:
        fixable = [f for f in result.findings if f.fixable]
        if fixable:
            path = Path(result.path)
            results.append(fix_notebook(path if path.is_absolute() else root / path, fixable,
                                        write=write))
    return results


def registry_identity(url: str) -> str | None:
    """The registry as the cache remembers it: a digest of its URL (which may hold a
    password, never written to the cache), and a SQLite file's inode."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:32]
    if url.startswith("sqlite:///"):
        try:
            return f"{digest}#{os.stat(url[len('sqlite:///'):]).st_ino}"
        except OSError:
            return None
    return digest


def _record(report: LintReport, project: Project, cache: LintCache | None,
            config: LintConfig) -> int:
    """Record the results not yet in the registry; returns how many were added.

    A result equal to the latest one recorded for its notebook version under these settings
    (what the gates read) is not added again; their digests are compared, from an index. A
    version shared by several of the files (copies of one notebook) has each result added,
    so the last stays the latest, as in the report's order.
    """
    url = project.registry_url
    identity = registry_identity(url)
    pending = [r for r in report.files if r.notebook_version is not None and not (
        cache is not None and identity is not None and cache.recorded(r.sha256, identity))]
    if not pending:
        return 0
    digest = config.digest()
    versions = [str(r.notebook_version) for r in pending]
    shared = Counter(versions)
    latest = project.registry.checks.latest_digests("lint", digest, versions)
    host = socket.gethostname()
    new = []
    for result, version in zip(pending, versions, strict=True):
        stamp = _stamp(result, digest)
        if shared[version] > 1 or latest.get(version) != stamp:
            new.append(_check(result, config, digest, project.user, host, stamp))
    project.registry.checks.add(new)
    identity = registry_identity(url) or hashlib.sha256(url.encode()).hexdigest()[:32]
    if cache is not None:
        for result in pending:
            cache.mark_recorded(result.sha256, identity)
    return len(new)


def _stamp(result: FileResult, config_digest: str) -> str:
    """The digest of the check recorded for ``result``: its details follow from the findings
    and the settings (bump the first part when what is recorded changes)."""
    return hashlib.sha256(f"lint 1\x00{config_digest}\x00{result.path}\x00"
                          f"{result.findings_digest()}".encode()).hexdigest()


def _check(result: FileResult, config: LintConfig, digest: str, user: str,
           host: str, stamp: str) -> CheckRecord:
    failing = [f for f in result.findings if config.fails(f.severity)]
    counts: dict[str, int] = {}
    for item in result.findings:
        counts[item.severity] = counts.get(item.severity, 0) + 1
    summary = "clean" if not result.findings else ", ".join(
        f"{n} {sev}{'s' if n != 1 else ''}" for sev, n in sorted(counts.items()))
    assert result.notebook_version is not None
    return CheckRecord(
        kind="lint", notebook=result.path, notebook_version=result.notebook_version,
        passed=not failing, summary=summary,
        details={"counts": counts, "fail_on": config.fail_on,
                 "findings": [f.to_json() for f in result.findings[:50]]},
        config_digest=digest, user=user, host=host, result_digest=stamp)
