"""nbprod's use cases. The CLI, the server and the widgets call these and nothing deeper.

Open a project from settings, then run and inspect::

    from nbprod import api
    from nbprod.config import load_settings

    with api.open_project(load_settings(), os.environ) as project:
        record = api.run_notebook(project, api.RunRequest("notebooks/train.ipynb"))

Names load on first use: a command that only lints does not import the registry's database
layer or the execution engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..notebook import GivenValue, read_parameter_file
    from .compare import Change, RunDiff, diff_runs
    from .project import Project, RunDefaults, open_project
    from .runlist import iter_runs, runs_json
    from .runs import (
        RunObserver,
        RunRequest,
        get_run,
        list_runs,
        run_notebook,
        verify_artifacts,
    )

_EXPORTS = {
    "GivenValue": "..notebook", "read_parameter_file": "..notebook",
    "Change": ".compare", "RunDiff": ".compare", "diff_runs": ".compare",
    "Project": ".project", "RunDefaults": ".project", "open_project": ".project",
    "RunObserver": ".runs", "RunRequest": ".runs", "get_run": ".runs", "list_runs": ".runs",
    "run_notebook": ".runs", "verify_artifacts": ".runs", "checks_for": ".runs",
    "list_checks": ".runs",
    "iter_runs": ".runlist", "runs_json": ".runlist",
    "profiles_for": ".profiles", "verdicts_for_run": ".monitoring",
    "list_verdicts": ".monitoring", "list_alerts": ".alerting",
}

__all__ = [
    "Change", "GivenValue", "Project", "RunDefaults", "RunDiff", "RunObserver", "RunRequest",
    "checks_for", "diff_runs", "get_run", "iter_runs", "list_checks", "list_runs", "open_project",
    "read_parameter_file", "run_notebook", "runs_json", "verify_artifacts",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
