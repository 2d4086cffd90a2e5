"""Which notebook a panel is for, and the project it belongs to, as this kernel sees them.

JupyterLab tells a kernel the path of its notebook (``JPY_SESSION_NAME``, an absolute path);
outside Lab the caller names it. Settings are read as the CLI reads them, from the notebook's
folder walking up, then ``NBPROD_*``; the acting user is the CLI's (``NBPROD_USER``, else the
operating-system user).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import api
from ..api.access import Permissions, permissions
from ..config import Settings, load_settings
from ..errors import InvalidInput, NotFound

SESSION_ENV = "JPY_SESSION_NAME"
# Interactive-only variables a run's kernel must not inherit from this one.
_NOT_INHERITED = (SESSION_ENV,)


@dataclass
class NotebookSession:
    """An open project and the notebook (project-relative path) a panel shows."""

    project: api.Project
    settings: Settings
    notebook: str
    environ: Mapping[str, str]

    @property
    def allowed(self) -> Permissions:
        return permissions(self.project, self.project.user)

    def close(self) -> None:
        self.project.close()


def notebook_path(notebook: str | Path | None, environ: Mapping[str, str]) -> Path:
    """The notebook file a panel is for: given, else the one JupyterLab started us for."""
    if notebook is None:
        named = environ.get(SESSION_ENV)
        if not named:
            raise InvalidInput("nbprod.widgets.panel(): this kernel does not know its notebook",
                               hint="open the notebook in JupyterLab, or pass "
                                    "panel('notebooks/train.ipynb')")
        notebook = named
    path = Path(notebook).expanduser()
    path = (path if path.is_absolute() else Path.cwd() / path).resolve()
    if path.suffix != ".ipynb" or not path.is_file():
        raise NotFound(f"nbprod.widgets.panel(): no notebook file {path}",
                       hint="save the notebook first, or pass its path")
    return path


def open_session(notebook: str | Path | None, project_dir: str | Path | None = None,
                 environ: Mapping[str, str] | None = None) -> NotebookSession:
    """Settings, project and notebook for a panel (the notebook must be in the project)."""
    environ = dict(os.environ if environ is None else environ)
    path = notebook_path(notebook, environ)
    settings = load_settings(Path(project_dir) if project_dir else path.parent, env=environ)
    inherited = {k: v for k, v in environ.items() if k not in _NOT_INHERITED}
    project = api.open_project(settings, inherited)
    relative = project.relative(path)
    if Path(relative).is_absolute():
        project.close()
        raise NotFound(f"nbprod.widgets.panel(): {path} is not inside the project at "
                       f"{settings.project_root}", hint="pass project_dir=")
    return NotebookSession(project=project, settings=settings, notebook=relative,
                           environ=inherited)
