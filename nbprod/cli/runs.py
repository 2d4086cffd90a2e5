"""``nbprod runs``, ``nbprod show``, ``nbprod diff``: read the registry."""

from __future__ import annotations

import click

from .. import api
from .common import json_bytes, json_option, print_json, print_json_lines, project
from .monitorrender import profiles_block, verdict_lines
from .render import checks_table, console, diff_table, run_summary, runs_table

_STATES = click.Choice(["running", "succeeded", "failed", "lost"])


@click.command("runs")
@click.option("-n", "--notebook", help="Only runs of this notebook (path or name).")
@click.option("--state", type=_STATES, help="Only runs in this state.")
@click.option("--last", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many of the newest runs to show.")
@click.option("--all", "show_all", is_flag=True, help="Show every run (ignores --last).")
@click.option("--sweep", "sweep_id", metavar="SWEEP_ID", help="Only the runs of one sweep.")
@json_option
def runs_command(notebook: str | None, state: str | None, last: int, show_all: bool,
                 sweep_id: str | None, as_json: bool) -> int:
    """List runs, newest first: id, notebook, state, duration, key values, when.

    A run whose runner vanished (killed, crashed, machine stopped) is shown as lost.
    """
    with project() as proj:
        if sweep_id:
            from ..api.sweep import sweep_runs

            records = sweep_runs(proj, sweep_id)
        elif as_json:  # streamed: the first runs print while the rest are read
            from ..lint.parallel import cores

            print_json_lines(api.runs_json(proj, notebook=notebook, state=state,
                                           last=None if show_all else last,
                                           processes=cores()))
            return 0
        else:
            records = list(api.iter_runs(proj, notebook=notebook, state=state,
                                         last=None if show_all else last))
    if as_json:
        print_json_lines(json_bytes(r.to_json()) for r in records)
        return 0
    if not records:
        console(stderr=True).print("no runs yet: `nbprod run NOTEBOOK` makes one")
    else:
        console().print(runs_table(records))
    return 0


@click.command("show")
@click.argument("run_id")
@click.option("--verify", is_flag=True, help="Re-hash every artifact against the registry.")
@json_option
def show_command(run_id: str, verify: bool, as_json: bool) -> int:
    """Show one run: lineage, parameters, recorded values, artifacts and any failure.

    RUN_ID may be the full id, a prefix, its last six characters, or latest (the newest
    run) and latest~N (N runs before it).
    """
    with project() as proj:
        record = api.get_run(proj, run_id)
        corrupt = api.verify_artifacts(proj, record) if verify else None
        checks = api.checks_for(proj, record.notebook_version)
        profiles = api.profiles_for(proj, record.run_id)
        verdicts = api.verdicts_for_run(proj, record)
    problems = corrupt.problems if corrupt is not None else []
    if as_json:
        data = record.to_json()
        data["checks"] = [c.to_json() for c in checks]
        data["profiles"] = [p.to_json() for p in profiles]
        data["monitor"] = [v.to_json() for v in verdicts]
        if verify:
            data["corrupt_artifacts"] = [name for name, _e, _a in problems]
            data["artifact_problems"] = [{"name": n, "recorded_sha256": e, "found_sha256": a}
                                         for n, e, a in problems]
        if corrupt is not None:  # one JSON object, with the error in it
            data["error"] = {"type": type(corrupt).__name__, "message": corrupt.one_line(),
                             "exit_code": corrupt.exit_code}
            print_json(data)
            click.echo(f"nbprod: error: {corrupt.one_line()}", err=True)
            return corrupt.exit_code
        print_json(data)
        return 0
    out = console()
    for block in run_summary(record):
        out.print(block)
    out.print(checks_table(checks, title="checks of this notebook version"))
    if profiles:
        out.print(profiles_block(profiles))
    for line in verdict_lines(verdicts):
        out.print(line)
    if verify:
        out.print("artifacts verified: all match" if not problems else "[red]artifacts that "
                  "no longer match their record: " + ", ".join(
                      f"{n} ({'missing' if a is None else 'modified'})" for n, _e, a in problems))
    if corrupt is not None:
        raise corrupt
    return 0


@click.command("diff")
@click.argument("left")
@click.argument("right")
@json_option
def diff_command(left: str, right: str, as_json: bool) -> int:
    """Show what differs between two runs: parameters, values, notebook version, git commit,
    kernel, input data and installed packages.

    LEFT and RIGHT are run ids as `nbprod show` takes them (`nbprod diff latest~1 latest`
    compares the two newest runs).
    """
    with project() as proj:
        diff = api.diff_runs(proj, left, right)
    if as_json:
        print_json(diff.to_json())
    else:
        console().print(diff_table(diff))
    return 0


@click.command("checks")
@click.argument("notebook", required=False)
@click.option("--kind", type=click.Choice(["lint", "test"]), help="Only lint or only test.")
@click.option("--last", type=click.IntRange(min=1), default=20, show_default=True)
@json_option
def checks_command(notebook: str | None, kind: str | None, last: int, as_json: bool) -> int:
    """List recorded lint and test results (newest first), per notebook version.

    `nbprod lint` and `nbprod test` record them; promotion gates read them.
    """
    with project() as proj:
        checks = api.list_checks(proj, notebook=notebook, kind=kind, limit=last)
    if as_json:
        print_json([c.to_json() for c in checks])
    else:
        console().print(checks_table(checks, title=None))
    return 0
