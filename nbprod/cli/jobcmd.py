"""``nbprod job``: run, build, list and export jobs."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..errors import EXIT_CODES_HELP
from .common import (
    failure_exit_code,
    json_option,
    print_json,
    project,
    settings,
    stderr_is_tty,
)
from .progress import CellProgress
from .render import console, duration

JOB_HELP = """Jobs: notebooks run in order as one job run, built into immutable versions.

A job is declared in [tool.nbprod.jobs.NAME] (steps, parameters, schedule, stages, gates); a
single notebook is a job too. Each step reads the files earlier steps wrote with
nbprod.step_path("STEP", "file").

\b
  nbprod job run pipeline                      the working tree's notebooks
  nbprod job build pipeline                    an immutable version (same content: same one)
  nbprod job run pipeline --stage production   what a scheduler calls: the stage's version
  nbprod job run pipeline --from train         resume the last failed job run at a step
  nbprod job export pipeline --target k8s      deploy files that follow the stage pointer
"""


@click.group("job", help=JOB_HELP)
def job_group() -> None:
    pass


@job_group.command("run", help=f"""Run job NAME's steps in order as one job run.

Parameters: -p NAME VALUE sets NAME in every step that declares it; -p STEP.NAME VALUE sets
it in one step. The job's [parameters] (or [test_parameters] with --test) come first.

\b
{EXIT_CODES_HELP}""")
@click.argument("name")
@click.option("--stage", help="Run the version this stage points at (from its bundle).")
@click.option("--version", "version", type=int, help="Run this built version.")
@click.option("--from", "from_step", metavar="STEP",
              help="Resume the latest failed job run: reuse the steps before STEP.")
@click.option("-p", "--parameter", "parameters", nargs=2, multiple=True,
              metavar="[STEP.]NAME VALUE", help="Set a parameter (repeatable).")
@click.option("--test", is_flag=True, help="Use the job's test_parameters.")
@click.option("--cache", is_flag=True,
              help="Reuse a step's succeeded run with the same run key (its code, parameters, "
                   "inputs, environment and upstream runs) instead of executing it.")
@click.option("--force", is_flag=True, help="With --cache: execute every step anyway.")
@json_option
def job_run(name: str, stage: str | None, version: int | None, from_step: str | None,
            parameters: tuple[tuple[str, str], ...], test: bool, cache: bool, force: bool,
            as_json: bool) -> int:
    from ..api.jobs import JobRunRequest, run_job, scoped_parameters
    from ..api.watch import after_job_run
    from ..errors import InvalidInput
    from ..jobs.spec import job_spec

    if stage is not None and version is not None:
        raise InvalidInput("give --stage or --version, not both")
    resolved = settings()
    spec = job_spec(resolved, name)
    given = scoped_parameters(parameters)
    out = console(stderr=True)

    def show(step: object) -> None:
        if not as_json:
            state = getattr(step, "state", "")
            mark = "[green]✓[/green]" if state == "succeeded" else "[red]✗[/red]"
            reused = " (reused)" if getattr(step, "reused", False) else ""
            out.print(f"{mark} step {getattr(step, 'step', '')}: {state}{reused} "
                      f"(run {getattr(step, 'run_id', '')})", highlight=False)

    progress = CellProgress(steps=len(spec.steps)) if stderr_is_tty() and not as_json else None
    try:
        with project(resolved) as proj:
            job_run_record = run_job(proj, spec, JobRunRequest(
                version=version, stage=stage, from_step=from_step, parameters=given, test=test,
                cache=cache and not force), progress, on_step=show)
            followup = after_job_run(proj, job_run_record)
    finally:
        if progress is not None:
            progress.close()
    if as_json:
        print_json({**job_run_record.to_json(), "followup": followup.to_json()})
    else:
        from .monitorrender import alert_line, monitor_summary

        blocks = monitor_summary(followup.monitor) if followup.monitor else \
            [*map(alert_line, followup.alerts), *(f"note: {n}" for n in followup.notes)]
        for block in blocks:
            out.print(block, markup=False, highlight=False)
    source = f"version {job_run_record.version}" if job_run_record.version else "working tree"
    if job_run_record.state == "succeeded":
        if not as_json:
            out.print(f"[green]✓[/green] job run {job_run_record.job_run_id} of {name} "
                      f"({source}) succeeded", highlight=False)
        return 0
    message = job_run_record.failure.message if job_run_record.failure else "failed"
    out.print(f"nbprod: error: job run {job_run_record.job_run_id} of {name} ({source}) "
              f"failed: {message}", markup=False, highlight=False, soft_wrap=True)
    # the job run's failure is its failed step's (kind "infra" when the step has no run)
    return failure_exit_code(job_run_record.failure.kind if job_run_record.failure else "infra")


@job_group.command("build")
@click.argument("name")
@json_option
def job_build(name: str, as_json: bool) -> int:
    """Build an immutable version of job NAME: its notebooks, parameters, schedule, kernel
    and environment lock. Building unchanged content again gives the same version back."""
    from ..api.jobs import build_job
    from ..jobs.spec import job_spec

    resolved = settings()
    with project(resolved) as proj:
        result = build_job(proj, job_spec(resolved, name))
    version = result.version
    if as_json:
        print_json({**version.to_json(), "created": result.created})
    else:
        verb = "built" if result.created else "unchanged: already built as"
        console().print(f"{name}: {verb} version {version.version} "
                        f"({len(version.manifest['steps'])} steps, digest "
                        f"{version.digest[:12]})", highlight=False)
    return 0


@job_group.command("versions")
@click.argument("name")
@json_option
def job_versions_command(name: str, as_json: bool) -> int:
    """List the built versions of job NAME, newest first."""
    from rich.table import Table

    from ..api.jobs import job_versions

    with project() as proj:
        versions = job_versions(proj, name)
    if as_json:
        print_json([v.to_json() for v in versions])
        return 0
    table = Table(show_edge=False, header_style="bold")
    for column in ("version", "built by", "built at", "digest", "steps"):
        table.add_column(column)
    for v in versions:
        table.add_row(str(v.version), v.built_by, v.built_at.strftime("%Y-%m-%d %H:%M"),
                      v.digest[:12], ", ".join(s["name"] for s in v.manifest["steps"]))
    console().print(table)
    return 0


@job_group.command("runs")
@click.argument("name", required=False)
@click.option("--last", type=click.IntRange(min=1), default=20, show_default=True)
@json_option
def job_runs_command(name: str | None, last: int, as_json: bool) -> int:
    """List job runs (of NAME), newest first, with each step's state."""
    from rich.table import Table

    from ..api.jobs import list_job_runs

    with project() as proj:
        runs = list_job_runs(proj, name, limit=last)
    if as_json:
        print_json([r.to_json() for r in runs])
        return 0
    table = Table(show_edge=False, header_style="bold")
    for column in ("job run", "job", "source", "state", "steps", "duration"):
        table.add_column(column, overflow="fold")
    for r in runs:
        source = f"v{r.version}" + (f" ({r.stage})" if r.stage else "") if r.version else "tree"
        steps = " ".join(f"{s.step}:{s.state}" for s in r.steps)
        seconds = (r.ended_at - r.started_at).total_seconds() if r.ended_at else None
        table.add_row(r.job_run_id, r.job, source, r.state, steps, duration(seconds))
    console().print(table)
    return 0


@job_group.command("export")
@click.argument("name")
@click.option("--target", required=True, metavar="TARGET",
              help="What to write deploy files for: docker, k8s, airflow, github, or an "
                   "exporter plugin's name.")
@click.option("--version", "version", type=int,
              help="Version whose lock the files install [default: newest built].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("deploy"), show_default=True, help="Folder to write into.")
@click.option("--image", help="Container image name (docker, k8s) [default: "
              "nbprod-NAME:latest].")
@json_option
def job_export(name: str, target: str, version: int | None, out_dir: Path,
               image: str | None, as_json: bool) -> int:
    """Write deploy files for job NAME. Every target runs
    `nbprod job run NAME --stage production`: promotion and rollback move the stage pointer,
    and the deployed schedule follows without a new export."""
    from ..api.export import export_job
    from ..jobs.spec import job_spec

    resolved = settings()
    with project(resolved) as proj:
        written = export_job(proj, job_spec(resolved, name), target=target, version=version,
                             out_dir=out_dir if out_dir.is_absolute() else Path.cwd() / out_dir,
                             image=image, environ=dict(os.environ))
    if as_json:
        print_json({"target": target, "files": [str(p) for p in written]})
    else:
        for path in written:
            console().print(f"wrote {path}", highlight=False)
    return 0
