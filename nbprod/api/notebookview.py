"""Use cases: one notebook as the person iterating on it sees it — its parameter contract and
version, its latest test result, the jobs it is a step of and where their stages point, its
lint findings now, and values typed into a form checked against its contract.

The JupyterLab sidebar (through the server) and the notebook's widget panel show these; both
check a form's values here, so a form says exactly what ``nbprod run`` would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput, NbprodError, ParameterError
from ..notebook.values import GivenValue, resolve_parameters
from ..records import CheckRecord
from .browse import NotebookInfo, notebook_info, project_notebook
from .cache import given_parameters
from .project import Project


@dataclass(frozen=True)
class JobStep:
    """A job that runs this notebook as one of its steps, and where its stages point."""

    job: str
    step: str
    stages: tuple[tuple[str, int | None], ...]  # in promotion order
    latest_version: int | None  # the newest built version (what a promotion would take)
    approvals: tuple[tuple[str, int], ...] = ()  # approvals a stage needs, where it needs any

    def to_json(self) -> dict[str, Any]:
        return {"job": self.job, "step": self.step, "stages": dict(self.stages),
                "stage_order": [s for s, _ in self.stages],
                "latest_version": self.latest_version, "approvals": dict(self.approvals)}


@dataclass(frozen=True)
class NotebookView:
    """A notebook's contract, version, latest test result and jobs."""

    info: NotebookInfo
    version: str | None  # the saved file's notebook version (None if it cannot be read)
    test: CheckRecord | None
    jobs: tuple[JobStep, ...] = ()

    def to_json(self) -> dict[str, Any]:
        test = self.test.to_json() if self.test else None
        if test is not None:
            test["current"] = self.test is not None and \
                self.test.notebook_version == self.version
        return {**self.info.to_json(), "version": self.version, "test": test,
                "jobs": [j.to_json() for j in self.jobs]}


def notebook_view(project: Project, ref: str) -> NotebookView:
    """Everything the panels show about notebook ``ref`` (a name or project-relative path)."""
    from ..notebook import read_notebook  # nbformat: lazily

    info = notebook_info(project, ref)
    try:
        version: str | None = read_notebook(project.root / info.path).version
    except InvalidInput:
        version = None
    tests = project.registry.checks.latest(notebook=info.path, kind="test", limit=1)
    return NotebookView(info=info, version=version, test=tests[0] if tests else None,
                        jobs=tuple(jobs_of(project, info.path)))


def jobs_of(project: Project, notebook: str) -> list[JobStep]:
    """The declared jobs that have project-relative ``notebook`` as a step."""
    from .joboverview import job

    declared = (project.settings.raw.get("jobs") or {}) if project.settings is not None else {}
    found = []
    for name in sorted(declared) if isinstance(declared, dict) else []:
        try:
            spec = job(project, name)
        except NbprodError:
            continue  # a broken declaration: the jobs page says why
        step = next((s.name for s in spec.steps if s.notebook == notebook), None)
        if step is None:
            continue
        pointers = {p.stage: p.version for p in project.registry.jobs.stages(spec.name)}
        versions = project.registry.jobs.versions(spec.name)
        found.append(JobStep(job=spec.name, step=step,
                             stages=tuple((s, pointers.get(s)) for s in spec.stages),
                             latest_version=versions[0].version if versions else None,
                             approvals=tuple((s, spec.policy(s).approvals) for s in spec.stages
                                             if spec.policy(s).approvals)))
    return found


@dataclass(frozen=True)
class LintView:
    """A notebook's lint findings as its saved file stands (not recorded)."""

    path: str
    findings: tuple[Any, ...] = field(default_factory=tuple)
    failed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "failed": self.failed,
                "findings": [f.to_json() for f in self.findings]}


def lint_notebook(project: Project, ref: str) -> LintView:
    """``nbprod lint`` of one notebook with the project's lint settings; nothing recorded."""
    from ..lint.config import LintConfig
    from .lint import lint_notebooks

    path = project_notebook(project, ref)
    table = project.settings.raw.get("lint", {}) if project.settings is not None else {}
    config = LintConfig.from_table(table)
    outcome = lint_notebooks(project, [path], config, record=False)
    return LintView(path=project.relative(path), findings=tuple(outcome.report.findings),
                    failed=outcome.report.failed)


@dataclass(frozen=True)
class FormCheck:
    """What is wrong with a form's values: a message per parameter (the CLI's words), or a
    problem with the notebook itself; and each single value that fits, as a run gets it."""

    errors: Mapping[str, str] = field(default_factory=dict)
    problem: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and self.problem is None

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "errors": dict(self.errors), "problem": self.problem,
                "values": dict(self.values)}


def check_form(project: Project, ref: str, values: Mapping[str, GivenValue | Sequence[GivenValue]],
               strict: bool | None = None) -> FormCheck:
    """Check each field on its own, so every wrong field gets its message at once.

    A field's value is one :class:`GivenValue` (a run) or several (a sweep's grid: each must
    fit). The messages are :func:`resolve_parameters`'s, as ``nbprod run`` prints them.
    """
    from ..notebook import contract_of, read_notebook  # nbformat: lazily

    strict = project.defaults.strict if strict is None else strict
    try:
        path, entry = project.resolve_notebook(str(project_notebook(project, ref)))
        contract = contract_of(read_notebook(path), strict=strict)
    except InvalidInput as exc:
        return FormCheck(problem=exc.one_line())
    errors: dict[str, str] = {}
    coerced: dict[str, Any] = {}
    for name, given in values.items():
        for one in [given] if isinstance(given, GivenValue) else given:
            try:
                value = resolve_parameters(contract, given_parameters(entry, {name: one}),
                                           strict=strict)[name]
            except ParameterError as exc:
                errors[name] = exc.one_line()
                break
            if isinstance(given, GivenValue):
                coerced[name] = value
    return FormCheck(errors=errors, values=coerced)


def form_parameters(project: Project, ref: str,
                    values: Mapping[str, GivenValue]) -> dict[str, Any]:
    """A form's values as the notebook would get them in a run (coerced, with the notebook's
    settings under them); :class:`ParameterError` on the first that does not fit."""
    from ..notebook import contract_of, read_notebook  # nbformat: lazily

    path, entry = project.resolve_notebook(str(project_notebook(project, ref)))
    contract = contract_of(read_notebook(path), strict=project.defaults.strict)
    return resolve_parameters(contract, given_parameters(entry, values),
                              strict=project.defaults.strict)
