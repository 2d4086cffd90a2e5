"""What every command shares: opening the project from settings, JSON output, exit codes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
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


def print_json_lines(lines: Iterable[bytes], batch: int = 500) -> None:
    """A JSON array of already encoded items, one a line, printed ``batch`` lines at a time
    as they come (100,000 runs do not wait for the last to be read)."""
    pending: list[bytes] = []
    opened = False
    for line in lines:
        pending.append(line)
        if len(pending) >= batch:
            click.echo((b",\n" if opened else b"[\n") + b",\n".join(pending), nl=False)
            opened, pending = True, []
    if not opened:
        click.echo(b"[\n" + b",\n".join(pending) + b"\n]" if pending else b"[]")
    else:
        click.echo(b"".join(b",\n" + line for line in pending) + b"\n]")


def json_bytes(item: Any) -> bytes:
    """``json.dumps(item, default=str)``, compact, UTF-8, fast (orjson where it can)."""
    import orjson

    try:
        return orjson.dumps(item, default=str, option=orjson.OPT_PASSTHROUGH_DATETIME
                            | orjson.OPT_PASSTHROUGH_DATACLASS)
    except TypeError:  # an integer past 64 bits, a key that is not a string: what json does
        return json.dumps(item, default=str).encode()


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
