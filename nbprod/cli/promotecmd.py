"""``nbprod promote``, ``approve``, ``rollback``, ``stages``, ``audit``."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table
from rich.text import Text

from ..errors import EXIT_CODES_HELP
from .common import json_option, print_json, project, settings
from .render import console


def _gate_table(results: list[object]) -> Table:
    table = Table(show_edge=False, box=None, padding=(0, 2, 0, 0), header_style="bold")
    table.add_column("gate", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for result in results:
        passed = bool(getattr(result, "passed", False))
        table.add_row(str(getattr(result, "gate", "")),
                      Text("✓ pass", style="green") if passed else Text("✗ fail", style="red"),
                      str(getattr(result, "detail", "")))
    return table


@click.command("promote", help=f"""Point STAGE of job NAME at VERSION, behind its gates.

Every gate configured for the stage ([tool.nbprod.jobs.NAME.promotion.STAGE]) is evaluated
and shown, and the approvals it requires are counted. The move happens only if all pass (or
an admin forces it with a reason), and only if nobody moved the stage meanwhile. Every
attempt is in `nbprod audit`.

\b
  nbprod promote pipeline 3 --to staging
  nbprod promote pipeline 3 --to production --dry-run

\b
{EXIT_CODES_HELP}""")
@click.argument("name")
@click.argument("version", type=int)
@click.option("--to", "stage", required=True, help="The stage to move.")
@click.option("--dry-run", is_flag=True, help="Show the verdict; move nothing, audit nothing.")
@click.option("--force", is_flag=True, help="Move despite failed gates (admins only).")
@click.option("--reason", help="Why (required with --force; kept in the audit).")
@json_option
def promote_command(name: str, version: int, stage: str, dry_run: bool, force: bool,
                    reason: str | None, as_json: bool) -> int:
    from ..api.promotion import try_promote
    from ..jobs.spec import job_spec

    resolved = settings()
    spec = job_spec(resolved, name)
    out = console(stderr=as_json)
    with project(resolved) as proj:
        outcome = try_promote(proj, spec, version, stage, force=force, reason=reason,
                              dry_run=dry_run)
    if outcome.refused is not None:
        if as_json:
            print_json(outcome.to_json())
        else:
            out.print(_gate_table(list(outcome.verdict.results)))
        click.echo(f"nbprod: error: promotion of {name} version {version} to {stage} "
                   f"refused: {len(outcome.verdict.failed)} gate(s) failed (above)", err=True)
        return outcome.exit_code
    if as_json:
        print_json(outcome.to_json())
        return outcome.exit_code
    out.print(_gate_table(list(outcome.verdict.results)))
    if dry_run:
        verdict = "would pass" if outcome.verdict.passed else "would be refused"
        out.print(f"dry run: promoting {name} version {version} to {stage} {verdict}",
                  highlight=False)
        return 0
    if not outcome.moved:
        out.print(f"{stage} of {name} already points at version {version}", highlight=False)
        return 0
    forced = " (FORCED past failed gates)" if outcome.forced else ""
    out.print(f"[green]✓[/green] {stage} of {name} now points at version {version}{forced}",
              highlight=False)
    return 0


@click.command("approve")
@click.argument("name")
@click.argument("version", type=int)
@click.option("--stage", default="production", show_default=True,
              help="The stage the approval is for.")
@click.option("--comment", help="Kept in the audit log.")
@json_option
def approve_command(name: str, version: int, stage: str, comment: str | None,
                    as_json: bool) -> int:
    """Approve VERSION of job NAME for a stage (default production). Approvers are listed in
    [tool.nbprod.roles].approvers; nobody approves a version they built."""
    from ..api.promotion import approve
    from ..jobs.spec import job_spec

    resolved = settings()
    with project(resolved) as proj:
        approvals = approve(proj, job_spec(resolved, name), version, stage, comment)
    if as_json:
        print_json({"job": name, "version": version, "stage": stage,
                    "approvals": [{"approver": u, "at": at.isoformat()} for u, at in approvals]})
    else:
        console().print(f"approved {name} version {version} for {stage}; approvals: "
                        f"{', '.join(u for u, _ in approvals)}", highlight=False)
    return 0


@click.command("rollback")
@click.argument("name")
@click.option("--stage", required=True, help="The stage to move back.")
@click.option("--reason", help="Kept in the audit log.")
@json_option
def rollback_command(name: str, stage: str, reason: str | None, as_json: bool) -> int:
    """Point STAGE of job NAME back at the version it held before the current one."""
    from ..api.promotion import rollback
    from ..jobs.spec import job_spec

    resolved = settings()
    with project(resolved) as proj:
        pointer = rollback(proj, job_spec(resolved, name), stage, reason=reason)
    if as_json:
        print_json(pointer.to_json())
    else:
        console().print(f"[green]✓[/green] {stage} of {name} rolled back to version "
                        f"{pointer.version}", highlight=False)
    return 0


@click.command("stages")
@click.argument("name")
@json_option
def stages_command(name: str, as_json: bool) -> int:
    """Show where each stage of job NAME points, who moved it and when."""
    from ..api.promotion import stages
    from ..jobs.spec import job_spec

    resolved = settings()
    with project(resolved) as proj:
        rows = stages(proj, job_spec(resolved, name))
    if as_json:
        print_json([{"stage": s, "pointer": p.to_json() if p else None} for s, p in rows])
        return 0
    table = Table(show_edge=False, header_style="bold")
    for column in ("stage", "version", "moved by", "moved at"):
        table.add_column(column)
    for stage, pointer in rows:
        table.add_row(stage, str(pointer.version) if pointer else "-",
                      pointer.moved_by if pointer else "-",
                      pointer.moved_at.strftime("%Y-%m-%d %H:%M:%S") if pointer else "-")
    console().print(table)
    return 0


def _who(entry: Any) -> str:
    """The acting user, with the OS user when it differs (``ci-bot (os: runner)``)."""
    if entry.os_user and entry.os_user != entry.user:
        return f"{entry.user} (os: {entry.os_user})"
    return str(entry.user)


@click.command("audit")
@click.argument("name", required=False)
@click.option("--last", type=click.IntRange(min=1), default=50, show_default=True)
@json_option
def audit_command(name: str | None, last: int, as_json: bool) -> int:
    """The audit log: builds, promotions, approvals, rollbacks, forced moves, refusals and
    conflicts, newest first."""
    from ..api.promotion import audit_log

    with project() as proj:
        entries = audit_log(proj, name, limit=last)
    if as_json:
        print_json([e.to_json() for e in entries])
        return 0
    table = Table(show_edge=False, header_style="bold")
    for column in ("when", "user", "action", "outcome", "job", "stage", "version", "detail"):
        table.add_column(column, overflow="fold")
    for e in entries:
        moved = f"{e.from_version or '-'} → {e.to_version}" if e.to_version else \
            str(e.version or "-")
        failed = [g["gate"] for g in e.gates if not g.get("passed")]
        detail = "; ".join(filter(None, [
            "FORCED" if e.forced else "",
            f"failed: {', '.join(failed)}" if failed else "", e.reason or ""]))
        style = {"ok": "green", "refused": "red", "not_allowed": "red", "conflict": "yellow"}
        table.add_row(e.at.strftime("%Y-%m-%d %H:%M:%S"), _who(e), e.action,
                      Text(e.outcome, style=style.get(e.outcome, "")), e.job, e.stage or "-",
                      moved, detail)
    console().print(table)
    return 0
