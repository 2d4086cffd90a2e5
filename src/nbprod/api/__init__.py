"""nbprod's use cases. The CLI, the server and the widgets call these and nothing deeper.

Open a project from settings, then run and inspect::

    from nbprod import api
    from nbprod.config import load_settings

    with api.open_project(load_settings(), os.environ) as project:
        record = api.run_notebook(project, api.RunRequest("notebooks/train.ipynb"))
"""

from __future__ import annotations

from ..notebook import GivenValue, read_parameter_file
from .compare import Change, RunDiff, diff_runs
from .project import Project, RunDefaults, open_project
from .runs import RunObserver, RunRequest, get_run, list_runs, run_notebook, verify_artifacts

__all__ = [
    "Change", "GivenValue", "Project", "RunDefaults", "RunDiff", "RunObserver", "RunRequest",
    "diff_runs", "get_run", "list_runs", "open_project", "read_parameter_file", "run_notebook",
    "verify_artifacts",
]
