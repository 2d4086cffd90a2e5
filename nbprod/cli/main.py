"""The ``nbprod`` command: parse, call :mod:`nbprod.api`, render. Errors are handled here only.

A known error (:class:`~nbprod.errors.NbprodError`) prints one line and exits with its code;
anything else is a bug and prints its traceback (exit 70). ``NBPROD_DEBUG=1`` shows the
traceback for known errors too.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from ..about import __version__
from ..errors import (
    EXIT_CODES_HELP,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_INVALID_INPUT,
    NbprodError,
)

HELP = f"""Take parameterized Jupyter notebooks to production.

\b
  nbprod run notebooks/train.ipynb -p n_estimators 50   run into a versioned record
  nbprod runs                                           history of runs
  nbprod show RUN_ID                                    one run: lineage, values, files
  nbprod diff RUN_ID RUN_ID                             what differs between two runs
  nbprod lint / nbprod test                             grade notebooks before they ship
  nbprod job run pipeline / nbprod job build pipeline   run a job / build a version of it
  nbprod promote pipeline 3 --to production             ship a version behind its gates
  nbprod monitor score / nbprod health                  drift, decay, stale or failing jobs

Settings come from [tool.nbprod] in pyproject.toml (or nbprod.toml), found by walking up
from the current folder, then NBPROD_* environment variables, then flags. Every command
takes --json for scripts.

\b
{EXIT_CODES_HELP}
"""


# Each command's module is imported only when that command runs (or for --help), so
# `nbprod lint` does not pay for the execution engine or the database layer.
COMMANDS = {
    "init": "nbprod.cli.scaffoldcmd:init_command",
    "new": "nbprod.cli.scaffoldcmd:new_command",
    "params": "nbprod.cli.paramscmd:params_command",
    "run": "nbprod.cli.runcmd:run_command",
    "runs": "nbprod.cli.runs:runs_command",
    "show": "nbprod.cli.runs:show_command",
    "diff": "nbprod.cli.runs:diff_command",
    "lint": "nbprod.cli.lintcmd:lint_command",
    "test": "nbprod.cli.testcmd:test_command",
    "checks": "nbprod.cli.runs:checks_command",
    "job": "nbprod.cli.jobcmd:job_group",
    "sweep": "nbprod.cli.sweepcmd:sweep_command",
    "kernels": "nbprod.cli.kernelscmd:kernels_group",
    "promote": "nbprod.cli.promotecmd:promote_command",
    "approve": "nbprod.cli.promotecmd:approve_command",
    "rollback": "nbprod.cli.promotecmd:rollback_command",
    "stages": "nbprod.cli.promotecmd:stages_command",
    "audit": "nbprod.cli.promotecmd:audit_command",
    "serve": "nbprod.cli.servecmd:serve_command",
    "drift": "nbprod.cli.monitorcmd:drift_command",
    "monitor": "nbprod.cli.monitorcmd:monitor_command",
    "health": "nbprod.cli.monitorcmd:health_command",
    "alerts": "nbprod.cli.monitorcmd:alerts_command",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, attr = target.split(":")
        command = getattr(importlib.import_module(module), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


@click.group(cls=LazyGroup, lazy=COMMANDS, help=HELP,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="nbprod")
def cli() -> None:
    pass


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the console script and of ``python -m nbprod``."""
    sys.exit(run_cli(argv))


def run_cli(argv: Sequence[str] | None = None) -> int:
    debug = os.environ.get("NBPROD_DEBUG", "") not in ("", "0")
    try:
        result = cli.main(args=list(argv) if argv is not None else None,
                          prog_name="nbprod", standalone_mode=False)
        return int(result or 0)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("nbprod: interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return EXIT_INVALID_INPUT if exc.exit_code == 2 else int(exc.exit_code)
    except NbprodError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"nbprod: error: {exc.one_line()}", err=True)
        if "--json" in (argv if argv is not None else sys.argv[1:]):
            # Scripts asked for JSON: they get the error as one object on stdout too.
            click.echo(json.dumps({"error": {"type": type(exc).__name__,
                                             "message": exc.one_line(),
                                             "exit_code": exc.exit_code}}))
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("nbprod: interrupted", err=True)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except Exception:
        traceback.print_exc()
        click.echo("nbprod: internal error (a bug): the traceback above says where; please "
                   "report it", err=True)
        return EXIT_INTERNAL
