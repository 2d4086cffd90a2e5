"""nbprod inside the notebook: ``nbprod.widgets.panel()`` (ipywidgets).

In a notebook open in JupyterLab::

    import nbprod
    panel = nbprod.widgets.panel()     # this notebook's contract, runs, jobs
    panel                              # show it: a form, Run / Sweep, runs, a chart, promote
    params = panel.parameters          # the form's values, checked against the contract

The panel is an interface like the CLI and the server: it reads the project's settings, then
calls ``nbprod.api`` in this kernel (a run is the saved notebook file executed in a fresh
kernel, recorded as ``nbprod run`` records it). Nothing here is imported by ``import nbprod``:
ipywidgets and the library load on the first ``panel()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path


def panel(notebook: str | Path | None = None, *, project_dir: str | Path | None = None) -> Any:
    """The nbprod panel of ``notebook`` (default: the notebook this kernel runs for).

    Parameters
    ----------
    notebook
        The notebook's path, when the kernel cannot tell (outside JupyterLab).
    project_dir
        Where to look for the project's settings (default: the notebook's folder, walking up).
    """
    from .notebookpanel import open_panel

    return open_panel(notebook, project_dir=project_dir)


__all__ = ["panel"]
