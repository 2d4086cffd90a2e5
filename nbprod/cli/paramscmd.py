"""``nbprod params``: a notebook's parameter contract, without running it."""

from __future__ import annotations

import click

from .common import json_option, print_json, settings


@click.command("params")
@click.argument("notebook")
@click.option("--no-strict", "no_strict", is_flag=True,
              help="List a literal default that contradicts its annotation as untyped instead "
                   "of refusing the notebook.")
@json_option
def params_command(notebook: str, no_strict: bool, as_json: bool) -> int:
    """Show the parameters NOTEBOOK takes: name, type, default and help.

    NOTEBOOK is a path to an .ipynb file, or a name declared in settings or found in
    notebook_dir (`nbprod params train`). The parameters are read from the first cell tagged
    `parameters`, as papermill reads them, and typed: by the annotation
    (`alpha: float = 0.5  # strength`), else by the literal. A default computed from other
    names (`data_dir = os.path.join(base, "data")`) can still be set with -p; without an
    annotation its value is not type-checked, and `nbprod lint` says how to type it.

    \b
      nbprod params notebooks/train.ipynb
      nbprod params train --json     # [{"name", "type", "default", "help", "typed",
                                     #   "annotated", "computed"}, ...]
    """
    from ..api.notebooks import notebook_parameters

    found = notebook_parameters(settings(), notebook, strict=False if no_strict else None)
    if as_json:
        print_json(found.to_json())
        return 0
    _render(found)
    return 0


def _render(found: object) -> None:
    from rich.markup import escape
    from rich.table import Table

    from ..api.notebooks import NotebookParameters
    from .render import console

    assert isinstance(found, NotebookParameters)
    out, err = console(), console(stderr=True)
    for note in found.notes:
        err.print(f"note: {escape(note)}")
    contract = found.contract
    if contract.cell_index is None:
        out.print(f"{escape(found.notebook)} has no cell tagged 'parameters': it takes no "
                  "parameters (papermill would inject them at the top).\n"
                  "Tag the cell holding its inputs 'parameters' in JupyterLab (or run "
                  "`nbprod lint --fix`).")
        return
    if not contract.parameters:
        out.print(f"{escape(found.notebook)}: the parameters cell (cell {contract.cell_index}) "
                  "declares no parameters.")
        return
    out.print(f"parameters of {escape(found.notebook)} (cell {contract.cell_index}):")
    table = Table(show_edge=False, header_style="bold")
    for column in ("name", "type", "default", "help"):
        table.add_column(column, overflow="fold")
    untyped = []
    for parameter in contract.parameters:
        kind = str(parameter.type)
        if not parameter.typed:
            kind += " (untyped)"
            untyped.append(parameter.name)
        elif not parameter.annotated:
            kind += " (inferred)"
        default = f"{parameter.computed}  (computed)" if parameter.computed is not None \
            else repr(parameter.default)
        table.add_row(parameter.name, kind, escape(default), escape(parameter.help or ""))
    out.print(table)
    if untyped:
        err.print(f"{len(untyped)} parameter(s) nbprod cannot type ({', '.join(untyped)}): "
                  "values given with -p are read as papermill reads them. `nbprod lint` "
                  "suggests annotations.")
    if any(a.kind != "computed" for a in found.advisories):
        err.print("the parameters cell holds other statements too; they run as written "
                  f"(`nbprod lint {escape(found.notebook)}` lists them).")
