"""``nbprod run``: one notebook into a versioned run record."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .. import api
from ..errors import EXIT_CODES_HELP
from .common import exit_code, json_option, print_json, project, settings, stderr_is_tty
from .progress import CellProgress

if TYPE_CHECKING:
    from ..records import RunRecord

RUN_HELP = f"""Run NOTEBOOK (a path, or a name declared in settings) into a run record.

Parameters are checked against the notebook's `parameters` cell before any kernel starts:
types come from annotations (`alpha: float = 0.5`) or literals, unknown names are refused.

\b
  nbprod run notebooks/train.ipynb -p n_estimators 50 -p test_size 0.3
  nbprod run train -f params.yaml --json

The output notebook, an HTML report, record.json and every file written through
nbprod.output_path() are stored with the run; `nbprod show RUN_ID` lists them.

\b
{EXIT_CODES_HELP}
"""


@click.command("run", help=RUN_HELP)
@click.argument("notebook")
@click.option("-p", "--parameter", "parameters", nargs=2, multiple=True,
              metavar="NAME VALUE", help="Set a parameter (repeatable); VALUE is converted "
              "to the parameter's declared type.")
@click.option("-f", "--parameters-file", "parameters_file",
              type=click.Path(dir_okay=False, path_type=Path),
              help="YAML file of parameters (plain values only); -p wins over it.")
@click.option("--no-strict", is_flag=True,
              help="Run as papermill would: also inject names the notebook does not declare, "
                   "and take a default that contradicts its annotation as untyped.")
@click.option("--kernel", help="Kernel to use instead of the notebook's kernelspec.")
@click.option("--start-timeout", type=float, metavar="SECONDS",
              help="Seconds to wait for the kernel to start [settings: start_timeout, 60].")
@click.option("--cell-timeout", type=float, metavar="SECONDS",
              help="Seconds any one cell may run [settings: cell_timeout, 600].")
@click.option("--timeout", type=float, metavar="SECONDS",
              help="Seconds the whole run may take [settings: timeout, 3600].")
@click.option("--cache", is_flag=True,
              help="Reuse the newest succeeded run with the same run key (notebook version, "
                   "parameters, input digests, environment) instead of executing.")
@click.option("--force", is_flag=True, help="With --cache: execute anyway.")
@click.option("--plain-kernel", is_flag=True,
              help="Spawn a plain kernel instead of forking one from a warm template.")
@json_option
def run_command(notebook: str, parameters: tuple[tuple[str, str], ...],
                parameters_file: Path | None, no_strict: bool, kernel: str | None,
                start_timeout: float | None, cell_timeout: float | None,
                timeout: float | None, cache: bool, force: bool, plain_kernel: bool,
                as_json: bool) -> int:
    resolved = settings(start_timeout=start_timeout, cell_timeout=cell_timeout, timeout=timeout)
    given: dict[str, api.GivenValue] = {}
    if parameters_file is not None:
        given.update(api.read_parameter_file(parameters_file))
    for name, value in parameters:
        given[name] = api.GivenValue(value, source="-p", raw=True)
    request = api.RunRequest(notebook=notebook, parameters=given,
                             strict=False if no_strict else None, kernel=kernel,
                             cache=cache and not force, fast=False if plain_kernel else None)
    with project(resolved) as proj:
        observer = CellProgress() if stderr_is_tty() and not as_json else None
        try:
            record = api.run_notebook(proj, request, observer)
        finally:
            if observer is not None:
                observer.close()
    if as_json:
        print_json(record.to_json())
    _report(record, quiet=as_json)
    return exit_code(record)


def _report(record: RunRecord, *, quiet: bool) -> None:
    from .render import console, duration, number

    err = console(stderr=True)
    if record.state == "succeeded":
        if quiet:
            return
        if record.cache_hit:
            err.print(f"[green]✓[/green] cache hit: reused run [bold]{record.run_id}[/bold] "
                      f"({record.started_at.strftime('%Y-%m-%d %H:%M')}, same notebook "
                      "version, parameters, inputs and environment); --force to execute",
                      highlight=False)
            return
        values = "  ".join(f"{k}={number(v)}" for k, v in list(record.values.items())[:6])
        err.print(f"[green]✓[/green] run [bold]{record.run_id}[/bold] succeeded in "
                  f"{duration(record.duration)}" + (f"  {values}" if values else ""))
        if record.note:
            err.print(f"  note: {record.note}", style="dim")
        report = record.artifact("report.html")
        if report is not None:
            err.print(f"  report: {report.location}", style="dim", soft_wrap=True)
        return
    failure = record.failure
    message = failure.message if failure else "unknown failure"
    kind = failure.kind if failure else "infra"
    if kind == "internal" and failure is not None and failure.evalue:
        err.print(failure.evalue, markup=False, highlight=False, soft_wrap=True)  # traceback
    err.print(f"nbprod: error: run {record.run_id} failed ({kind}): {message}",
              style="red", soft_wrap=True, markup=False, highlight=False)
    output = record.artifact("notebook.ipynb")
    if output is not None and not quiet:
        err.print(f"  output notebook (failing cell marked): {output.location}", style="dim",
                  soft_wrap=True)
