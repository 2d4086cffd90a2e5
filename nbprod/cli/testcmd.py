"""``nbprod test``: regression (nbval) and smoke runs, in parallel, recorded per version."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import EXIT_FINDINGS, EXIT_OK
from .common import print_json, project, settings, stderr_is_tty
from .progress import CountProgress
from .render import console

TEST_HELP = """Test notebooks: nbval regression where outputs are saved, smoke runs elsewhere.

PATHS are notebooks or folders (default: the project's notebook_dir). A notebook with saved
outputs is executed by nbval and each code cell's outputs compared with the saved ones, after
the sanitizers and numeric tolerance of [tool.nbprod.test]; a notebook without outputs, or
with test_parameters in [tool.nbprod.notebooks.NAME], gets a smoke run through the same path
as `nbprod run` (same timeouts and final states). Notebooks run in parallel on the local cores.

\b
  nbprod test                          test the project's notebooks
  nbprod test notebooks/train.ipynb --junitxml report.xml

Results are recorded in the registry against each notebook's version (for promotion gates).

\b
Exit codes: 0 every notebook passed; 1 a notebook failed; 2 usage or settings error.
"""


@click.command("test", help=TEST_HELP)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--workers", type=click.IntRange(min=1), help="Notebooks at a time [default: "
              "settings test.workers, else the number of cores].")
@click.option("--junitxml", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a JUnit XML report for CI.")
@click.option("--no-regression", is_flag=True, help="Do not compare saved outputs.")
@click.option("--no-smoke", is_flag=True, help="Do not smoke-run notebooks.")
@click.option("--cell-timeout", type=float, metavar="SECONDS",
              help="Seconds any one cell may run [settings: cell_timeout].")
@click.option("--timeout", type=float, metavar="SECONDS",
              help="Seconds one notebook may take [settings: timeout].")
@click.option("--no-record", is_flag=True, help="Do not record results in the registry.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as a JSON array.")
def test_command(paths: tuple[Path, ...], workers: int | None, junitxml: Path | None,
                 no_regression: bool, no_smoke: bool, cell_timeout: float | None,
                 timeout: float | None, no_record: bool, as_json: bool) -> int:
    import dataclasses

    from ..api.testing import NotebookTest, run_notebook_tests
    from ..lint.config import LintConfig
    from ..lint.engine import discover
    from ..validate.config import TestConfig

    resolved = settings(cell_timeout=cell_timeout, timeout=timeout)
    config = TestConfig.from_table(resolved.raw.get("test", {}))
    config = dataclasses.replace(config, regression=config.regression and not no_regression,
                                 smoke=config.smoke and not no_smoke)
    root = resolved.project_root
    targets = list(paths) or [root / resolved.notebook_dir if
                              (root / resolved.notebook_dir).is_dir() else root]
    notebooks = discover(targets, LintConfig())
    out = console(stderr=True)
    progress = CountProgress("test", len(notebooks)) \
        if stderr_is_tty() and not as_json and notebooks else None

    def show(result: NotebookTest) -> None:
        if progress is not None:
            progress.advance(failed=not result.passed)
        if as_json:
            return
        mark = "[green]✓[/green]" if result.passed else "[red]✗[/red]"
        out.print(f"{mark} {result.notebook}  {result.summary()}  ({result.seconds:.1f} s)",
                  markup=True, highlight=False, soft_wrap=True)
        if result.regression is not None:
            for failure in result.regression.failures[:3]:
                if failure.diff:
                    out.print(failure.diff, markup=False, highlight=False, style="dim")

    try:
        with project(resolved) as proj:
            report = run_notebook_tests(proj, notebooks, config, workers=workers,
                                        record=not no_record, on_done=show)
    finally:
        if progress is not None:
            progress.close()
    if junitxml is not None:
        from .junit import write_junit

        write_junit(report, junitxml)
    if as_json:
        print_json([r.to_json() for r in report.results])
    else:
        failed = sum(1 for r in report.results if not r.passed)
        total = len(report.results)
        out.print(f"{total - failed} of {total} notebooks passed" +
                  (f", {failed} failed" if failed else ""), highlight=False)
    return EXIT_OK if report.passed else EXIT_FINDINGS
