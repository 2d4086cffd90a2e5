"""A job as declared in ``[tool.nbprod.jobs.NAME]``: steps, parameters, schedule, stages, gates.

```toml
[tool.nbprod.jobs.pipeline]
steps = ["prepare", "train", "evaluate"]     # notebook names or paths, run in order
schedule = "0 6 * * *"                        # cron, for exported deploy files
kernel = "python3"
stages = ["dev", "staging", "production"]    # the default
parameters = { train = { n_estimators = 200 } }
test_parameters = { train = { n_estimators = 5 } }

[tool.nbprod.jobs.pipeline.promotion.production]
gates = ["lint", "tests", "succeeded_run", "previous_stage",
         { gate = "metric", expr = "evaluate.test_accuracy >= 0.9" },
         { gate = "not_worse", metric = "evaluate.test_accuracy", margin = 0.02 }]
approvals = 1
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import NotebookSettings, Settings
from ..errors import NbprodError, NotFound, SettingsError

NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
DEFAULT_STAGES = ("dev", "staging", "production")
_JOB_KEYS = frozenset({"steps", "schedule", "kernel", "stages", "parameters", "test_parameters",
                       "promotion", "inputs", "uses"})
_POLICY_KEYS = frozenset({"gates", "approvals"})
_CRON_FIELD = re.compile(r"[\d*/,\-A-Za-z?LW#]+")

# Gates a stage requires when settings name none.
DEFAULT_GATES: dict[str, tuple[str, ...]] = {
    "dev": (),
    "staging": ("lint", "tests", "succeeded_run"),
    "production": ("lint", "tests", "succeeded_run", "previous_stage"),
}


@dataclass(frozen=True)
class StepSpec:
    """One step: a notebook (project-relative path) under a name."""

    name: str
    notebook: str


@dataclass(frozen=True)
class GateSpec:
    """A gate by name, with its options (``{ gate = "metric", expr = "..." }``)."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"gate": self.name, **dict(self.options)}


@dataclass(frozen=True)
class StagePolicy:
    gates: tuple[GateSpec, ...] = ()
    approvals: int = 0


@dataclass(frozen=True)
class JobSpec:
    name: str
    steps: tuple[StepSpec, ...]
    schedule: str | None = None
    kernel: str | None = None
    stages: tuple[str, ...] = DEFAULT_STAGES
    parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    test_parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    promotion: Mapping[str, StagePolicy] = field(default_factory=dict)
    # uses = { job = "pipeline", stage = "production" }: the steps of that job's newest
    # succeeded run at that stage are upstream of this job's steps (nbprod.step_path reads
    # their files), resolved when the job runs, so the model follows promotions.
    uses: tuple[str, str] | None = None

    def policy(self, stage: str) -> StagePolicy:
        """The gates and approvals promoting into ``stage`` requires."""
        if stage not in self.stages:
            raise NotFound(f"job {self.name} has no stage '{stage}'",
                           hint=f"stages: {', '.join(self.stages)}")
        if stage in self.promotion:
            return self.promotion[stage]
        return StagePolicy(gates=tuple(GateSpec(g) for g in DEFAULT_GATES.get(stage, ())))

    def previous_stage(self, stage: str) -> str | None:
        index = self.stages.index(stage)
        return self.stages[index - 1] if index > 0 else None


def job_spec(settings: Settings, name: str) -> JobSpec:
    """The job ``name`` from settings; NotFound lists the declared jobs."""
    jobs = settings.raw.get("jobs") or {}
    if not isinstance(jobs, dict):
        raise SettingsError("[tool.nbprod.jobs] must be a table of [jobs.NAME] tables")
    if name not in jobs:
        # A notebook alone is a job of one step, under its own name.
        if name in settings.notebooks or _notebook_path(settings, name) is not None:
            return JobSpec(name=_safe(name), steps=(_step(settings, name, f"job {name}"),))
        known = ", ".join(sorted(jobs)) or "none declared"
        raise NotFound(f"no job '{name}'", hint=f"jobs in [tool.nbprod.jobs]: {known}")
    return parse_job(settings, name, jobs[name])


def declared_jobs(settings: Settings) -> list[JobSpec]:
    """The jobs of ``[tool.nbprod.jobs]`` by name, leaving out broken declarations (they are
    reported where that job is used)."""
    jobs = settings.raw.get("jobs") or {}
    found = []
    for name in sorted(jobs) if isinstance(jobs, dict) else []:
        try:
            found.append(job_spec(settings, name))
        except NbprodError:
            continue
    return found


def parse_job(settings: Settings, name: str, table: Any) -> JobSpec:
    where = f"[tool.nbprod.jobs.{name}]"
    if not NAME.fullmatch(name):
        raise SettingsError(f"{where}: job names use letters, digits, '.', '_' and '-'")
    if not isinstance(table, dict):
        raise SettingsError(f"{where} must be a table")
    unknown = set(table) - _JOB_KEYS
    if unknown:
        raise SettingsError(f"{where}: unknown setting '{sorted(unknown)[0]}'",
                            hint=f"known: {', '.join(sorted(_JOB_KEYS))}")
    raw_steps = table.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps or \
            not all(isinstance(s, str) for s in raw_steps):
        raise SettingsError(f"{where}.steps must list one or more notebooks (names or paths)")
    steps = tuple(_step(settings, ref, where) for ref in raw_steps)
    names = [s.name for s in steps]
    if len(set(names)) != len(names):
        raise SettingsError(f"{where}.steps: two steps share a name ({', '.join(names)})")
    stages = table.get("stages", list(DEFAULT_STAGES))
    if not isinstance(stages, list) or not stages or not all(
            isinstance(s, str) and NAME.fullmatch(s) for s in stages) or \
            len(set(stages)) != len(stages):
        raise SettingsError(f"{where}.stages must be a list of distinct stage names")
    schedule = table.get("schedule")
    if schedule is not None:
        _check_cron(schedule, f"{where}.schedule")
    kernel = table.get("kernel")
    if kernel is not None and not isinstance(kernel, str):
        raise SettingsError(f"{where}.kernel must be a kernel name")
    return JobSpec(
        name=name, steps=steps, schedule=schedule, kernel=kernel, stages=tuple(stages),
        parameters=_per_step(table.get("parameters", {}), names, f"{where}.parameters"),
        test_parameters=_per_step(table.get("test_parameters", {}), names,
                                  f"{where}.test_parameters"),
        promotion=_promotion(table.get("promotion", {}), tuple(stages), f"{where}.promotion"),
        uses=_uses(table.get("uses"), name, f"{where}.uses"))


def _uses(value: Any, name: str, where: str) -> tuple[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"job", "stage"} or not isinstance(
            value.get("job"), str) or not NAME.fullmatch(value["job"]) or value["job"] == name:
        raise SettingsError(f"{where} must be a table naming another job (and a stage): "
                            "{ job = \"pipeline\", stage = \"production\" }")
    stage = value.get("stage", "production")
    if not isinstance(stage, str) or not NAME.fullmatch(stage):
        raise SettingsError(f"{where}.stage must be a stage name")
    return value["job"], stage


def _safe(name: str) -> str:
    if not NAME.fullmatch(name):
        raise SettingsError(f"'{name}' cannot name a job: use letters, digits, '.', '_', '-'")
    return name


def _notebook_path(settings: Settings, ref: str) -> str | None:
    root = settings.project_root
    entry: NotebookSettings | None = settings.notebooks.get(ref)
    candidates = []
    if entry is not None:
        candidates.append(entry.path or f"{settings.notebook_dir}/{ref}.ipynb")
    candidates += [ref, f"{settings.notebook_dir}/{ref}.ipynb"]
    for candidate in candidates:
        if (root / candidate).is_file():
            return Path(candidate).as_posix()
    return None


def _step(settings: Settings, ref: str, where: str) -> StepSpec:
    path = _notebook_path(settings, ref)
    if path is None:
        raise SettingsError(f"{where}: step '{ref}' is not a notebook of this project",
                            hint="name a notebook declared in [tool.nbprod.notebooks] or give "
                                 "its path")
    name = ref if ref in settings.notebooks or (NAME.fullmatch(ref) and "/" not in ref and \
        not ref.endswith(".ipynb")) else Path(path).stem
    return StepSpec(name=_safe(name), notebook=path)


def _per_step(value: Any, steps: list[str], where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise SettingsError(f"{where} must be a table of step names to parameter tables")
    result: dict[str, dict[str, Any]] = {}
    for step, params in value.items():
        if step not in steps:
            raise SettingsError(f"{where}: '{step}' is not a step", hint=f"steps: "
                                f"{', '.join(steps)}")
        if not isinstance(params, dict):
            raise SettingsError(f"{where}.{step} must be a table of parameter values")
        result[step] = dict(params)
    return result


def _promotion(value: Any, stages: tuple[str, ...], where: str) -> dict[str, StagePolicy]:
    if not isinstance(value, dict):
        raise SettingsError(f"{where} must be a table of stage names")
    result: dict[str, StagePolicy] = {}
    for stage, table in value.items():
        if stage not in stages:
            raise SettingsError(f"{where}: '{stage}' is not a stage", hint=f"stages: "
                                f"{', '.join(stages)}")
        if not isinstance(table, dict) or set(table) - _POLICY_KEYS:
            raise SettingsError(f"{where}.{stage} takes gates and approvals")
        gates = table.get("gates", list(DEFAULT_GATES.get(stage, ())))
        if not isinstance(gates, list):
            raise SettingsError(f"{where}.{stage}.gates must be a list")
        approvals = table.get("approvals", 0)
        if not isinstance(approvals, int) or isinstance(approvals, bool) or approvals < 0:
            raise SettingsError(f"{where}.{stage}.approvals must be a whole number >= 0")
        result[stage] = StagePolicy(
            gates=tuple(_gate(g, f"{where}.{stage}.gates") for g in gates), approvals=approvals)
    return result


def _gate(value: Any, where: str) -> GateSpec:
    if isinstance(value, str):
        return GateSpec(value)
    if isinstance(value, dict) and isinstance(value.get("gate"), str):
        options = {k: v for k, v in value.items() if k != "gate"}
        return GateSpec(value["gate"], options)
    raise SettingsError(f"{where}: a gate is a name or a table with 'gate' (and its options)")


def _check_cron(value: Any, where: str) -> None:
    fields = value.split() if isinstance(value, str) else []
    if len(fields) != 5 or not all(_CRON_FIELD.fullmatch(f) for f in fields):
        raise SettingsError(f"{where} must be a 5-field cron expression like '0 6 * * *', "
                            f"got {value!r}")
