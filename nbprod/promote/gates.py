"""Promotion gates: each says whether a job version may enter a stage, and why.

Every gate configured for the target stage is evaluated and reported, not only the first
failure. A gate is a class with a ``name`` and ``evaluate(context, options)``; built-ins and
third-party gates register in the ``nbprod.gates`` entry-point group. Gates read the registry
only through :class:`GateContext`.

Built-in gates:

- ``lint``: every step's notebook version has a passed ``nbprod lint`` result (its latest
  under the project's current lint settings: ``--ignore``/``--select`` results do not count);
- ``tests``: every step's notebook version has a passed ``nbprod test`` result (its latest
  under the project's current test settings);
- ``succeeded_run``: a job run of this version succeeded;
- ``metric``: ``{ gate = "metric", expr = "evaluate.test_accuracy >= 0.9" }`` on the latest
  succeeded job run of this version (``STEP.VALUE`` or a value name any step recorded);
- ``not_worse``: ``{ gate = "not_worse", metric = "...", margin = 0.02, higher_is_better =
  true }``: not worse than the version in production by more than the margin; it fails when
  either value is missing, and passes only if nothing else is in production yet;
- ``previous_stage``: the version was in the stage before this one first.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..errors import SettingsError
from ..records import CheckRecord, JobRun, JobVersion

GROUP = "nbprod.gates"
_EXPR = re.compile(r"\s*([A-Za-z0-9_.-]+)\s*(>=|<=|==|!=|>|<)\s*([-+]?[0-9.]+(?:[eE][-+]?\d+)?)"
                   r"\s*")
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne}


@dataclass(frozen=True)
class GateResult:
    gate: str
    passed: bool
    detail: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"gate": self.gate, "passed": self.passed, "detail": self.detail,
                "data": dict(self.data)}


class GateContext(Protocol):
    """What gates may know about the version under promotion and its history."""

    @property
    def version(self) -> JobVersion: ...

    @property
    def stage(self) -> str: ...

    @property
    def previous_stage(self) -> str | None: ...

    def checks(self, notebook_version: str, kind: str) -> list[CheckRecord]:
        """Lint or test results for a notebook version, newest first: only those produced
        under the project's current lint or test settings."""
        ...

    def job_runs(self, version: int, state: str | None = None) -> list[JobRun]:
        """Job runs of a version of this job, newest first."""
        ...

    def values(self, job_run: JobRun) -> dict[str, dict[str, Any]]:
        """Recorded values of a job run: step -> name -> value."""
        ...

    def stage_version(self, stage: str) -> int | None:
        """The version a stage of this job points at now."""
        ...

    def was_in_stage(self, version: int, stage: str) -> bool:
        """Whether ``version`` was ever promoted into ``stage``."""
        ...


@runtime_checkable
class Gate(Protocol):
    name: str
    summary: str

    def evaluate(self, context: GateContext, options: Mapping[str, Any]) -> GateResult: ...


def _steps(context: GateContext) -> list[dict[str, Any]]:
    return list(context.version.manifest["steps"])


class CheckGate:
    """Every step's notebook version has a passed result of one kind (lint or tests)."""

    def __init__(self, name: str, kind: str, command: str) -> None:
        self.name = name
        self.kind = kind
        self.command = command
        self.summary = f"`{command}` passed for every step's notebook version"

    def evaluate(self, context: GateContext, options: Mapping[str, Any]) -> GateResult:
        missing, failing = [], []
        for step in _steps(context):
            results = context.checks(step["notebook_version"], self.kind)
            if not results:
                missing.append(step["name"])
            elif not results[0].passed:
                failing.append(f"{step['name']} ({results[0].summary})")
        if not missing and not failing:
            return GateResult(self.name, True, f"{self.command} passed for every step")
        parts = []
        if failing:
            parts.append("failed for " + ", ".join(failing))
        if missing:
            parts.append("no result under the project's current settings for this version of "
                         + ", ".join(missing) + " (results made with other settings, such as "
                         "--ignore or --select, do not count)")
        return GateResult(self.name, False, f"{self.command}: " + "; ".join(parts),
                          {"missing": missing, "failing": failing})


class LintGate(CheckGate):
    def __init__(self) -> None:
        super().__init__("lint", "lint", "nbprod lint")


class TestsGate(CheckGate):
    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        super().__init__("tests", "test", "nbprod test")


class SucceededRunGate:
    name = "succeeded_run"
    summary = "a job run of this version succeeded"

    def evaluate(self, context: GateContext, options: Mapping[str, Any]) -> GateResult:
        runs = context.job_runs(context.version.version, state="succeeded")
        if runs:
            return GateResult(self.name, True, f"job run {runs[0].job_run_id} succeeded",
                              {"job_run_id": runs[0].job_run_id})
        return GateResult(self.name, False, f"no succeeded job run of version "
                          f"{context.version.version} (nbprod job run "
                          f"{context.version.job} --version {context.version.version})")


def metric_value(context: GateContext, version: int, metric: str) -> tuple[float | None, str]:
    """A numeric recorded value from the latest succeeded job run of ``version``."""
    runs = context.job_runs(version, state="succeeded")
    if not runs:
        return None, f"no succeeded job run of version {version}"
    values = context.values(runs[0])
    step, _, name = metric.rpartition(".")
    if step and step in values:
        found = values[step].get(name)
    else:
        found = next((v[metric] for v in values.values() if metric in v), None)
    if isinstance(found, bool) or not isinstance(found, int | float):
        return None, f"{metric} was not recorded (as a number) by job run {runs[0].job_run_id}"
    return float(found), runs[0].job_run_id


class MetricGate:
    name = "metric"
    summary = "a recorded value meets a threshold"

    def evaluate(self, context: GateContext, options: Mapping[str, Any]) -> GateResult:
        expr = options.get("expr")
        match = _EXPR.fullmatch(expr) if isinstance(expr, str) else None
        if match is None:
            raise SettingsError(f"gate metric: expr must look like 'accuracy >= 0.9', got "
                                f"{expr!r}")
        metric, op, threshold = match.group(1), match.group(2), float(match.group(3))
        value, source = metric_value(context, context.version.version, metric)
        name = f"metric {str(expr).strip()}"
        if value is None:
            return GateResult(name, False, source)
        passed = _OPS[op](value, threshold)
        verdict = "meets" if passed else "does not meet"
        return GateResult(name, passed, f"{metric} = {value:.6g} {verdict} {op} {threshold:g} "
                          f"(job run {source})", {"value": value, "threshold": threshold})


class NotWorseGate:
    name = "not_worse"
    summary = "a recorded value is not worse than production's by more than a margin"

    def evaluate(self, context: GateContext, options: Mapping[str, Any]) -> GateResult:
        metric = options.get("metric")
        if not isinstance(metric, str):
            raise SettingsError("gate not_worse needs metric = \"STEP.VALUE\"")
        margin = float(options.get("margin", 0.0))
        higher = bool(options.get("higher_is_better", True))
        stage = str(options.get("stage", "production"))
        name = f"not_worse {metric} than {stage}"
        baseline_version = context.stage_version(stage)
        if baseline_version is None or baseline_version == context.version.version:
            return GateResult(name, True, f"no other version in {stage} to compare with")
        ours, source = metric_value(context, context.version.version, metric)
        theirs, their_source = metric_value(context, baseline_version, metric)
        if ours is None:
            return GateResult(name, False, source)
        if theirs is None:  # fail closed: "not worse" cannot be shown
            return GateResult(name, False, f"version {baseline_version} in {stage} has no "
                              f"{metric} to compare with ({their_source}); run that version "
                              f"once (nbprod job run {context.version.job} --stage {stage}) "
                              "or have an admin --force with a --reason",
                              {"value": ours, "baseline": None, "missing": "baseline"})
        worse_by = (theirs - ours) if higher else (ours - theirs)
        passed = worse_by <= margin
        return GateResult(name, passed, f"{metric} = {ours:.6g} vs {theirs:.6g} in {stage} "
                          f"(version {baseline_version}): "
                          + ("within" if passed else "worse than") + f" the margin {margin:g}",
                          {"value": ours, "baseline": theirs, "margin": margin})


class PreviousStageGate:
    name = "previous_stage"
    summary = "the version was in the previous stage first"

    def evaluate(self, context: GateContext, options: Mapping[str, Any]) -> GateResult:
        previous = context.previous_stage
        if previous is None:
            return GateResult(self.name, True, f"{context.stage} is the first stage")
        if context.was_in_stage(context.version.version, previous):
            return GateResult(self.name, True, f"version {context.version.version} was in "
                              f"{previous}")
        return GateResult(self.name, False, f"version {context.version.version} was never in "
                          f"{previous}; promote it there first")


@dataclass(frozen=True)
class GateSet:
    gates: Mapping[str, Gate]

    @classmethod
    def from_entry_points(cls) -> GateSet:
        from ..plugins import group

        gates: dict[str, Gate] = {}
        for entry in group(GROUP):
            try:
                loaded = entry.load()
                gate = loaded() if isinstance(loaded, type) else loaded
            except Exception as exc:  # a broken plugin is named, not a crash
                raise SettingsError(f"gate plugin {entry.name} ({entry.value}) failed to load: "
                                    f"{type(exc).__name__}: {exc}") from exc
            gates[gate.name] = gate
        return cls(gates)

    def evaluate(self, context: GateContext,
                 specs: Sequence[tuple[str, Mapping[str, Any]]]) -> list[GateResult]:
        results = []
        for name, options in specs:
            gate = self.gates.get(name)
            if gate is None:
                raise SettingsError(f"unknown gate '{name}'",
                                    hint=f"known gates: {', '.join(sorted(self.gates))}")
            results.append(gate.evaluate(context, options))
        return results
