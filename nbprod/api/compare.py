"""Use case: what differs between two runs (parameters, values, code, environment, inputs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..records import RunRecord
from .project import Project
from .runs import get_run

_MISSING = "<absent>"


@dataclass(frozen=True)
class Change:
    """One field that differs: where it lives, its name, and the two values."""

    section: str
    name: str
    left: Any
    right: Any

    def to_json(self) -> dict[str, Any]:
        return {"section": self.section, "name": self.name, "left": self.left,
                "right": self.right}


@dataclass(frozen=True)
class RunDiff:
    left: RunRecord
    right: RunRecord
    changes: tuple[Change, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {"left": self.left.run_id, "right": self.right.run_id,
                "identical": not self.changes,
                "changes": [c.to_json() for c in self.changes]}


def diff_runs(project: Project, left_ref: str, right_ref: str) -> RunDiff:
    """Compare two runs field by field; equal fields are left out."""
    left, right = get_run(project, left_ref), get_run(project, right_ref)
    changes: list[Change] = []
    changes += _mapping("parameters", left.parameters, right.parameters)
    changes += _mapping("values", left.values, right.values)
    for name, a, b in (
        ("notebook", left.notebook, right.notebook),
        ("notebook_version", left.notebook_version, right.notebook_version),
        ("state", left.state, right.state),
        ("failure", _failure(left), _failure(right)),
        ("git_commit", left.lineage.git_commit, right.lineage.git_commit),
        ("git_dirty", left.lineage.git_dirty, right.lineage.git_dirty),
        ("kernel", left.lineage.kernel, right.lineage.kernel),
        ("python", left.lineage.python, right.lineage.python),
    ):
        if a != b:
            changes.append(Change("run", name, a, b))
    changes += _mapping("inputs", left.lineage.input_digests, right.lineage.input_digests)
    changes += _mapping("upstream", left.lineage.upstream, right.lineage.upstream)
    changes += _environment(project, left, right)
    return RunDiff(left=left, right=right, changes=tuple(changes))


def _failure(record: RunRecord) -> str | None:
    return record.failure.message if record.failure else None


def _mapping(section: str, left: dict[str, Any], right: dict[str, Any]) -> list[Change]:
    return [Change(section, key, left.get(key, _MISSING), right.get(key, _MISSING))
            for key in sorted(set(left) | set(right)) if left.get(key, _MISSING) !=
            right.get(key, _MISSING)]


def _environment(project: Project, left: RunRecord, right: RunRecord) -> list[Change]:
    a, b = left.lineage.environment_digest, right.lineage.environment_digest
    if a == b:
        return []
    changes = [Change("environment", "digest", a, b)]
    packages_a = _packages(project, a)
    packages_b = _packages(project, b)
    changes += _mapping("environment", packages_a, packages_b)
    return changes


def _packages(project: Project, digest: str | None) -> dict[str, str]:
    if not digest:
        return {}
    listed = project.registry.environment_packages(digest) or []
    pairs = (p.partition("==") for p in listed)
    return {name: version for name, _sep, version in pairs}


MAX_COMPARED = 10


@dataclass(frozen=True)
class CompareRow:
    """One field across the compared runs (``None`` where a run does not have it)."""

    section: str
    name: str
    values: tuple[Any, ...]

    @property
    def differs(self) -> bool:
        first = self.values[0] if self.values else None
        return any(v != first for v in self.values[1:])

    def to_json(self) -> dict[str, Any]:
        return {"section": self.section, "name": self.name, "values": list(self.values),
                "differs": self.differs}


@dataclass(frozen=True)
class Comparison:
    """Two or more runs side by side: every field, and which of them differ."""

    runs: tuple[RunRecord, ...]
    rows: tuple[CompareRow, ...]

    def differing(self) -> list[CompareRow]:
        return [r for r in self.rows if r.differs]

    def to_json(self, only_differences: bool = False) -> dict[str, Any]:
        rows = self.differing() if only_differences else list(self.rows)
        return {"runs": [r.run_id for r in self.runs], "identical": not self.differing(),
                "rows": [r.to_json() for r in rows]}


def compare_runs(project: Project, refs: list[str]) -> Comparison:
    """Parameters, values, code, environment (packages) and inputs of 2 to 10 runs."""
    from ..errors import InvalidInput

    if not 2 <= len(refs) <= MAX_COMPARED:
        raise InvalidInput(f"compare takes 2 to {MAX_COMPARED} runs, got {len(refs)}",
                           hint="select at least two runs")
    records = tuple(get_run(project, ref) for ref in refs)
    rows: list[CompareRow] = []
    for name, get in _RUN_FIELDS:
        rows.append(CompareRow("run", name, tuple(get(r) for r in records)))
    rows += _rows("parameters", [r.parameters for r in records])
    rows += _rows("values", [r.values for r in records])
    rows += _rows("inputs", [r.lineage.input_digests for r in records])
    rows += _rows("upstream", [r.lineage.upstream for r in records])
    digests = [r.lineage.environment_digest for r in records]
    if len(set(digests)) > 1:
        rows += _rows("packages", [_packages(project, d) for d in digests])
    return Comparison(runs=records, rows=tuple(rows))


_RUN_FIELDS: tuple[tuple[str, Any], ...] = (
    ("notebook", lambda r: r.notebook),
    ("notebook_version", lambda r: r.notebook_version),
    ("state", lambda r: r.state),
    ("failure", _failure),
    ("git_commit", lambda r: r.lineage.git_commit),
    ("git_dirty", lambda r: r.lineage.git_dirty),
    ("kernel", lambda r: r.lineage.kernel),
    ("python", lambda r: r.lineage.python),
    ("environment", lambda r: r.lineage.environment_digest),
    ("user", lambda r: r.lineage.user),
)


def _rows(section: str, mappings: list[dict[str, Any]]) -> list[CompareRow]:
    names = sorted({key for m in mappings for key in m})
    return [CompareRow(section, name, tuple(m.get(name) for m in mappings)) for name in names]
