"""A run's data profiles: the checks handed to the kernel, what it recorded, how it failed.

``nbprod.profile`` writes ``profiles/NAME.json`` into the run's capture folder; the runner
commits each as an artifact, summarizes it in the registry with the run's final state, and
turns a cell that raised ``DataCheckFailed`` into a failure of kind ``data_check`` naming the
dataset, the column, the rule and how many rows break it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import SettingsError
from ..records import Failure, ProfileRecord
from .project import Project


def declared_checks(project: Project) -> dict[str, Any]:
    """``[tool.nbprod.monitor.checks]``: dataset name -> its data checks, validated."""
    from ..monitor.checks import CheckSpecError, validate_spec

    raw = project.settings.raw if project.settings is not None else {}
    table = (raw.get("monitor") or {}).get("checks") or {}
    if not isinstance(table, Mapping):
        raise SettingsError("[tool.nbprod.monitor.checks] must be a table of dataset names")
    try:
        return {str(name): validate_spec(spec, f"[tool.nbprod.monitor.checks.{name}]")
                for name, spec in table.items()}
    except CheckSpecError as exc:
        raise SettingsError(str(exc)) from None


def checks_env(project: Project) -> dict[str, str]:
    """The kernel environment that carries the declared data checks (empty without any)."""
    from ..execute.capture import DATA_CHECKS_ENV

    checks = declared_checks(project)
    return {DATA_CHECKS_ENV: json.dumps(checks)} if checks else {}


def profile_record(run_id: str, name: str, content: Mapping[str, Any],
                   sha256: str) -> ProfileRecord:
    profile = content["profile"]
    checks = [c for c in content.get("checks", []) if isinstance(c, dict)]
    columns = profile.get("columns", [])
    return ProfileRecord(
        run_id=run_id, name=name, rows=int(profile.get("rows", 0)), columns=len(columns),
        summary={"rows": int(profile.get("rows", 0)),
                 "columns": {str(c.get("name")): {"kind": c.get("kind"),
                                                  "missing": c.get("missing")}
                             for c in columns}},
        checks=checks, passed=all(c.get("passed") for c in checks), sha256=sha256)


def data_check_failure(failure: Failure | None,
                       profiles: list[ProfileRecord]) -> Failure | None:
    """A cell error raised by a broken data check, as a ``data_check`` failure."""
    if failure is None or failure.kind != "cell_error" or failure.ename != "DataCheckFailed":
        return failure
    broken = [c for p in profiles for c in p.checks if not c.get("passed")]
    if not broken:
        return failure
    first = broken[0]
    check = {k: first.get(k) for k in ("dataset", "column", "rule", "failing_rows")}
    return Failure(kind="data_check", message=f"cell {failure.cell_index}: "
                   f"{failure.evalue or 'data check failed'}"[:500],
                   cell_index=failure.cell_index, ename=failure.ename, evalue=failure.evalue,
                   check=check)


def profiles_for(project: Project, run_id: str) -> list[ProfileRecord]:
    """The data profiles (and data check results) a run recorded."""
    return project.registry.monitor.profiles([run_id])
