"""``nbprod init`` and ``nbprod new``: start a project, or a notebook, from nbprod's templates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import json_option, print_json, settings

if TYPE_CHECKING:
    from ..api.scaffold import Scaffold


@click.command("init")
@click.argument("folder", type=click.Path(path_type=Path), default=".")
@click.option("--force", is_flag=True, help="Replace files the project would write that exist.")
@json_option
def init_command(folder: Path, force: bool, as_json: bool) -> int:
    """Start an nbprod project in FOLDER (default: here), ready to run.

    Writes pyproject.toml ([tool.nbprod]: a job `pipeline` with two steps, promotion gates,
    roles to fill in), notebooks/prepare.ipynb and notebooks/train.ipynb (scikit-learn on a
    data set it ships: no download), a .gitignore for nbprod's own files and a README. Nothing
    is fetched. An existing file is never replaced without --force: the command names each
    one and exits 2.

    \b
      nbprod init churn && cd churn
      nbprod lint && nbprod test && nbprod job run pipeline
    """
    from ..api.scaffold import init_project

    made = init_project(folder, force=force)
    _report(made, "project", as_json)
    return 0


@click.command("new")
@click.argument("name")
@click.option("-t", "--template", default="blank", show_default=True,
              help="blank (parameters, a value, a file), train (fit and store a model) or "
                   "score (batch-score with a trained model); `nbprod new --list` shows all.")
@click.option("--list", "list_templates", is_flag=True, help="List the notebook templates.")
@click.option("--force", is_flag=True, help="Replace the notebook if it exists.")
@json_option
def new_command(name: str, template: str, list_templates: bool, force: bool,
                as_json: bool) -> int:
    """Write notebooks/NAME.ipynb (in the project's notebook_dir) from a template.

    Each template starts with a typed parameters cell and calls nbprod.record and
    nbprod.output_path, and passes `nbprod lint`. An existing notebook is not replaced
    without --force.

    \b
      nbprod new churn_model --template train
      nbprod params churn_model
    """
    from ..api.scaffold import new_notebook, notebook_templates

    if list_templates:
        names = notebook_templates()
        if as_json:
            print_json(names)
        else:
            click.echo("\n".join(names))
        return 0
    resolved = settings()
    made = new_notebook(resolved.project_root / resolved.notebook_dir, name,
                        template=template, force=force)
    _report(made, "notebook", as_json)
    return 0


def _report(made: Scaffold, what: str, as_json: bool) -> None:
    import os

    if as_json:
        print_json(made.to_json())
        return
    from rich.markup import escape

    from .render import console

    out = console()
    shown = [os.path.relpath(p) for p in made.written]
    out.print(f"[green]✓[/] wrote {what}: {escape(', '.join(shown))}")
    out.print("next:")
    for step in made.next_steps:
        out.print(f"  {escape(step)}")
