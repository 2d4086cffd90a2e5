"""What every command shares: opening the project from settings, JSON output, exit codes."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from ..config import Settings, load_settings
from ..errors import (
    EXIT_INFRA,
    EXIT_INTERNAL,
    EXIT_INVALID_INPUT,
    EXIT_NOTEBOOK_FAILED,
    EXIT_OK,
)

if TYPE_CHECKING:
    from ..api import Project
    from ..records import RunRecord

json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print JSON (one object or array) instead of text.")


def settings(**overrides: Any) -> Settings:
    """Resolved settings: file < NBPROD_* environment < these flags."""
    return load_settings(env=os.environ).with_overrides(**overrides)


def project(resolved: Settings | None = None) -> Project:
    """Open the registry and store (imported here: not every command needs them)."""
    from ..api import open_project

    return open_project(resolved or settings(), os.environ)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def exit_code(record: RunRecord) -> int:
    """The process exit code for a run's final state."""
    if record.state == "succeeded":
        return EXIT_OK
    return failure_exit_code(record.failure.kind if record.failure else "infra")


def failure_exit_code(kind: str) -> int:
    """The process exit code for a failure of this kind."""
    if kind == "invalid_input":
        return EXIT_INVALID_INPUT
    if kind in ("infra", "lost"):
        return EXIT_INFRA
    if kind == "internal":
        return EXIT_INTERNAL
    return EXIT_NOTEBOOK_FAILED


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()
