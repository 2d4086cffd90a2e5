"""``nbprod lint``: production-readiness rules and ruff on notebooks."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import collector
from ..errors import EXIT_FINDINGS, EXIT_OK
from .common import project, settings

LINT_HELP = """Check notebooks for production readiness (rules NBP###) and their code with ruff.

PATHS are notebooks or folders (default: the project's notebook_dir). Findings print as
`path:cell N:line M: CODE message` (cells and lines counted from 0 and 1). Settings live in
[tool.nbprod.lint] (select, ignore, fail_on, per_file_ignores, severity); silence a finding in
a cell with `# nbprod: noqa NBP101`.

\b
  nbprod lint                         lint the project's notebooks
  nbprod lint notebooks/ --format sarif > lint.sarif
  nbprod lint --fix --diff            show the safe fixes without writing them
  nbprod lint --explain NBP303        what a rule checks and how to fix it

Results are recorded in the registry against each notebook's version (for promotion gates).

\b
Exit codes: 0 no finding at or above fail_on; 1 findings; 2 usage or settings error.
"""


@click.command("lint", help=LINT_HELP)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json", "github",
                                                                "sarif"]),
              default="text", show_default=True, help="How to print findings.")
@click.option("--fix", is_flag=True, help="Apply the safe fixes (clear outputs, tag the "
              "parameters cell), atomically.")
@click.option("--diff", is_flag=True, help="With --fix: print the changes instead of writing.")
@click.option("--select", help="Comma-separated code prefixes to report (overrides settings).")
@click.option("--ignore", help="Comma-separated code prefixes to skip (adds to settings).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]),
              help="Lowest severity that fails (exit 1) [settings: fail_on, warning].")
@click.option("--explain", metavar="CODE", help="Explain a rule and exit.")
@click.option("--list-rules", is_flag=True, help="List every rule and exit.")
@click.option("--no-cache", is_flag=True, help="Re-lint every notebook, ignoring the cache.")
@click.option("--no-record", is_flag=True, help="Do not record results in the registry.")
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
def lint_command(paths: tuple[Path, ...], output_format: str, fix: bool, diff: bool,
                 select: str | None, ignore: str | None, fail_on: str | None,
                 explain: str | None, list_rules: bool, no_cache: bool,
                 no_record: bool, as_json: bool) -> int:
    from ..api.lint import lint_notebooks
    from ..lint.catalog import RuleSet
    from ..lint.catalog import explain as explain_code
    from ..lint.config import LintConfig
    from ..lint.report import FORMATS, as_text

    if as_json:
        output_format = "json"
    rules = RuleSet.from_entry_points()
    if explain:
        click.echo(explain_code(explain.strip().upper(), rules), nl=False)
        return EXIT_OK
    if list_rules:
        for rule in rules:
            click.echo(f"{rule.code}  {rule.severity:<7}  {rule.name}: {rule.summary}")
        return EXIT_OK
    resolved = settings()
    config = LintConfig.from_table(resolved.raw.get("lint", {})).with_overrides(
        select=_codes(select), ignore=_codes(ignore), fail_on=fail_on)  # type: ignore[arg-type]
    root = resolved.project_root
    targets = list(paths) or [root / resolved.notebook_dir if
                              (root / resolved.notebook_dir).is_dir() else root]
    # The report's many objects make no cycles: printing them with the collector on would
    # walk them all once more (a tenth of a cold lint of 500 notebooks), for nothing.
    with collector.paused():
        with project(resolved) as proj:
            outcome = lint_notebooks(proj, targets, config, rules=rules,
                                     use_cache=not no_cache, record=not no_record,
                                     fix=fix or diff, write=fix and not diff)
        for result in outcome.fixes:
            if diff and result.diff:
                click.echo(result.diff, nl=False)
            elif result.changed:
                click.echo(f"fixed {result.path}: {'; '.join(result.applied)}", err=True)
        if output_format == "text":
            click.echo(as_text(outcome.report, rules, color=sys.stdout.isatty()))
        else:
            click.echo(FORMATS[output_format](outcome.report, rules))
        return EXIT_FINDINGS if outcome.report.failed else EXIT_OK


def _codes(value: str | None) -> tuple[str, ...]:
    return tuple(c.strip().upper() for c in (value or "").split(",") if c.strip())
