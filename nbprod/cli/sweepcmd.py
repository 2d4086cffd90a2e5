"""``nbprod sweep``: many runs of one notebook in parallel, one table of results."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from ..errors import EXIT_CODES_HELP
from .common import print_json, project, settings, stderr_is_tty
from .progress import CountProgress

SWEEP_HELP = f"""Run NOTEBOOK once per parameter point, in parallel; show one table of results.

Points come from --grid (the cartesian product of every --grid), --values (a YAML/JSON list
of parameter mappings) or --random N over --range. Every point is checked against the
notebook's parameter contract before anything runs. Each point is a normal run record,
grouped under a sweep id (`nbprod runs --sweep ID`).

\b
  nbprod sweep train --grid n_estimators=10,50,100 --grid max_depth=3,5,none --sort accuracy
  nbprod sweep train --values points.yaml --workers 4 --cache
  nbprod sweep train --random 20 --range test_size=0.1:0.4 --seed 1
  nbprod sweep train --grid seed=1,2,3 --executor dask --dask-scheduler tcp://10.0.0.5:8786

\b
{EXIT_CODES_HELP}
"""


@click.command("sweep", help=SWEEP_HELP)
@click.argument("notebook")
@click.option("--grid", "grid", multiple=True, metavar="NAME=v1,v2", help="Values of one "
              "parameter (repeatable: the points are every combination).")
@click.option("--values", "values_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A YAML or JSON list of parameter mappings, one per point.")
@click.option("--random", "random_count", type=click.IntRange(min=1), metavar="N",
              help="N points drawn from --range.")
@click.option("--range", "ranges", multiple=True, metavar="NAME=LOW:HIGH",
              help="For --random: a numeric range (ints if both ends are) or a|b|c choices.")
@click.option("--seed", type=int, help="Seed for --random.")
@click.option("-p", "--parameter", "parameters", nargs=2, multiple=True,
              metavar="NAME VALUE", help="A parameter set for every point.")
@click.option("--workers", type=click.IntRange(min=1), help="Points at a time [default: the "
              "number of cores].")
@click.option("--executor", default="local", show_default=True,
              help="Where points run: local (forked workers) or dask.")
@click.option("--dask-scheduler", metavar="ADDRESS", help="With --executor dask: an existing "
              "scheduler (tcp://HOST:PORT) instead of a LocalCluster.")
@click.option("--max-failures", type=click.IntRange(min=1), help="Stop starting new points "
              "after this many failed.")
@click.option("--sort", "sort_by", metavar="VALUE", help="Sort the table by a recorded value "
              "(highest first; -VALUE for lowest first).")
@click.option("--cache", is_flag=True, help="Reuse a succeeded run with the same run key.")
@click.option("--no-strict", is_flag=True, help="Allow parameters the notebook does not "
              "declare.")
@click.option("--kernel", help="Kernel to use instead of the notebook's kernelspec.")
@click.option("--json", "as_json", is_flag=True, help="Print the sweep as one JSON object.")
def sweep_command(notebook: str, grid: tuple[str, ...], values_file: Path | None,
                  random_count: int | None, ranges: tuple[str, ...], seed: int | None,
                  parameters: tuple[tuple[str, str], ...], workers: int | None, executor: str,
                  dask_scheduler: str | None, max_failures: int | None, sort_by: str | None,
                  cache: bool, no_strict: bool, kernel: str | None, as_json: bool) -> int:
    from ..api.sweep import PointSpec, assemble_points, run_sweep, validate_points
    from ..executors.base import load_executor
    from ..notebook.values import GivenValue

    points = assemble_points(PointSpec(grid=grid, values_file=values_file,
                                       random_count=random_count, ranges=ranges, seed=seed))
    base = {name: GivenValue(value, source="-p", raw=True) for name, value in parameters}
    resolved = settings()
    strict = False if no_strict else None
    with project(resolved) as proj:
        checked = validate_points(proj, notebook, base, points,
                                  strict=proj.defaults.strict if strict is None else strict)
        runner = load_executor(executor, {"workers": workers, "scheduler": dask_scheduler,
                                          "tls": resolved.dask_tls})
        progress = CountProgress("sweep", len(checked)) \
            if stderr_is_tty() and not as_json else None

        def advance(result: Any) -> None:
            if progress is not None:
                progress.advance(failed=result.state not in ("succeeded", "skipped"))

        try:
            report = run_sweep(proj, resolved, dict(os.environ), notebook, checked, runner,
                               cache=cache, max_failures=max_failures, kernel=kernel,
                               strict=strict, on_done=advance)
        finally:
            if progress is not None:
                progress.close()
    if as_json:
        print_json(report.to_json())
    else:
        _table(report, sort_by)
    return report.exit_code


def _table(report: Any, sort_by: str | None) -> None:
    from rich.table import Table

    from .render import console, number, short

    results = report.sorted_by(sort_by)
    names = sorted({k for r in results for k in r.parameters})
    values = sorted({k for r in results if r.record for k in r.record.values})
    table = Table(show_edge=False, header_style="bold",
                  title=f"sweep {report.sweep_id} of {report.notebook}", title_justify="left")
    for column in ("point", *names, "state", *values, "run"):
        table.add_column(column, overflow="fold")
    for r in results:
        record = r.record
        state = r.state + (" (cached)" if record is not None and record.cache_hit else "")
        table.add_row(str(r.index), *(short(r.parameters.get(n, ""), 16) for n in names),
                      state, *(number(record.values.get(v, "")) if record else "" for v in
                               values), record.run_id if record else (r.error or "")[:40])
    out = console()
    out.print(table)
    counts = ", ".join(f"{n} {state}" for state, n in sorted(report.counts().items()))
    out.print(f"{len(results)} points: {counts}", highlight=False)
    for lost in report.lost:
        where = f"run {lost.record.run_id}" if lost.record else "no run recorded"
        out.print(f"[red]lost[/red] point {lost.index} ({where}): {lost.error or 'worker died'}",
                  highlight=False)
