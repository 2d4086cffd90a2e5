"""Text rendering of run records for people: tables and summaries with rich."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..api import RunDiff
from ..records import CheckRecord, RunRecord, format_duration

_STATE_STYLE = {"succeeded": "green", "failed": "red", "running": "yellow", "lost": "magenta"}


def console(stderr: bool = False) -> Console:
    """A console; when output is not a terminal, lines are not cut at 80 columns."""
    probe = Console(stderr=stderr)
    width = None if probe.is_terminal else 200
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def duration(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(seconds)


def ago(when: dt.datetime, now: dt.datetime | None = None) -> str:
    delta = ((now or dt.datetime.now(dt.UTC)) - when).total_seconds()
    if delta < 60:
        return f"{int(delta)} s ago"
    if delta < 3600:
        return f"{int(delta // 60)} min ago"
    if delta < 86400:
        return f"{int(delta // 3600)} h ago"
    return when.strftime("%Y-%m-%d %H:%M")


def short(value: Any, width: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return short(value, 24)


def state_text(record: RunRecord) -> Text:
    label: str = record.state
    if record.failure is not None and record.state == "failed":
        label = f"failed ({record.failure.kind})"
    return Text(label, style=_STATE_STYLE.get(record.state, ""))


def runs_table(records: list[RunRecord]) -> Table:
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for column in ("run", "notebook", "state", "duration", "values", "when"):
        table.add_column(column, no_wrap=column != "values", overflow="fold",
                         min_width=20 if column == "values" else None)
    for record in records:
        items = list(record.values.items())
        values = ", ".join(f"{k}={number(v)}" for k, v in items[:4])
        if len(items) > 4:
            values += f", … (+{len(items) - 4})"
        table.add_row(record.run_id, record.notebook, state_text(record),
                      duration(record.duration), values or "-", ago(record.started_at))
    return table


def run_summary(record: RunRecord) -> list[Text | Table]:
    """The blocks of ``nbprod show``."""
    head = Text()
    head.append(f"run {record.run_id}  ", style="bold")
    head.append_text(state_text(record))
    head.append(f"  {duration(record.duration)}  started "
                f"{record.started_at.strftime('%Y-%m-%d %H:%M:%S')} UTC")
    blocks: list[Text | Table] = [head]
    if record.failure is not None:
        failure = record.failure
        where = f" at cell {failure.cell_index}" if failure.cell_index is not None else ""
        blocks.append(Text(f"failure: {failure.kind}{where}: {failure.message}", style="red"))
    if record.note:
        blocks.append(Text(f"note: {record.note}", style="dim"))
    lineage = record.lineage
    commit = (lineage.git_commit or "-")[:12] + (" (dirty)" if lineage.git_dirty else "")
    blocks.append(_pairs("lineage", [
        ("notebook", record.notebook),
        ("notebook version", (record.notebook_version or "-")[:16]),
        ("git commit", commit),
        ("environment", f"{(lineage.environment_digest or '-')[:16]} (Python "
                        f"{lineage.python or '?'})"),
        ("kernel", lineage.kernel or "-"),
        ("user@host", f"{lineage.user or '?'}@{lineage.host or '?'}"),
        *((f"input {name}", digest[:16]) for name, digest in lineage.input_digests.items()),
    ]))
    if record.parameters:
        blocks.append(_pairs("parameters", [(k, short(v, 60))
                                            for k, v in record.parameters.items()]))
    if record.values:
        blocks.append(_pairs("values", [(k, number(v)) for k, v in record.values.items()]))
    if record.artifacts:
        table = Table(show_edge=False, box=None, padding=(0, 2, 0, 0), header_style="bold")
        for column in ("artifacts", "size", "sha256", "path"):
            table.add_column(column, overflow="fold", no_wrap=column != "path")
        for artifact in record.artifacts:
            table.add_row(artifact.name, f"{artifact.size:,}", artifact.sha256[:16],
                          artifact.location)
        blocks.append(table)
    return blocks


def _pairs(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(show_header=True, show_edge=False, box=None, padding=(0, 2, 0, 0),
                  header_style="bold")
    table.add_column(title, style="dim", no_wrap=True)
    table.add_column("", overflow="fold")
    for key, value in rows:
        table.add_row(key, value)
    return table


def diff_table(diff: RunDiff) -> Table | Text:
    if not diff.changes:
        return Text(f"runs {diff.left.run_id} and {diff.right.run_id} do not differ")
    table = Table(show_edge=False, header_style="bold")
    table.add_column("section")
    table.add_column("name")
    table.add_column(diff.left.run_id, overflow="fold")
    table.add_column(diff.right.run_id, overflow="fold")
    for change in diff.changes:
        table.add_row(change.section, change.name, short(change.left, 50),
                      short(change.right, 50))
    return table


def checks_table(checks: list[CheckRecord], title: str | None) -> Table | Text:
    if not checks:
        return Text(f"{title}: none recorded (run nbprod lint / nbprod test)" if title else
                    "no lint or test results recorded yet", style="dim")
    table = Table(show_edge=False, box=None, padding=(0, 2, 0, 0), header_style="bold")
    for column in (title or "kind", "notebook", "version", "result", "summary", "recorded"):
        table.add_column(column, overflow="fold", no_wrap=column not in ("summary",))
    for check in checks:
        result = Text("passed", style="green") if check.passed else Text("failed", style="red")
        table.add_row(check.kind, check.notebook, check.notebook_version[:12], result,
                      short(check.summary, 70), ago(check.created_at))
    return table
