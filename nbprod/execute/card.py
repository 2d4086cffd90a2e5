"""The header card at the top of a run's HTML report: which run, state, failure, parameters,
values, duration, code, environment, user, job or sweep.

A stored ``report.html`` is read on its own (opened from the store, attached to a ticket), so it
says which run it shows. Every value is escaped: parameters and values come from users and
notebooks. The card uses no script and no external resource.
"""

from __future__ import annotations

import html
import json
from typing import Any

from ..records import RunRecord

_STATE_COLOUR = {"succeeded": "#1a7f37", "failed": "#cf222e", "running": "#9a6700",
                 "lost": "#8250df"}

_STYLE = """
.nbprod-card{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
border:1px solid #d0d7de;border-radius:8px;margin:16px auto 24px;max-width:1100px;
background:#f6f8fa;padding:14px 18px}
.nbprod-card h1{font-size:18px;margin:0 0 8px;font-weight:600}
.nbprod-card .badge{display:inline-block;color:#fff;border-radius:10px;padding:1px 9px;
font-size:12px;font-weight:600;vertical-align:2px;margin-left:6px}
.nbprod-card .failure{background:#ffebe9;border:1px solid #ff818266;border-radius:6px;
padding:6px 10px;margin:8px 0;color:#82071e}
.nbprod-card dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}
.nbprod-card dt{color:#59636e}.nbprod-card dd{margin:0;font-family:ui-monospace,monospace;
font-size:13px;word-break:break-all}
.nbprod-card table{border-collapse:collapse;margin:4px 0 8px}
.nbprod-card td,.nbprod-card th{border:1px solid #d0d7de;padding:2px 8px;text-align:left;
font-size:13px}.nbprod-card th{background:#eaeef2}
.nbprod-card .cols{display:flex;gap:32px;flex-wrap:wrap}
"""


def header_card(record: RunRecord) -> str:
    """The card for ``record`` as an HTML fragment (a ``<style>`` and a ``<section>``)."""
    state = html.escape(record.state)
    colour = _STATE_COLOUR.get(record.state, "#59636e")
    parts = [f"<style>{_STYLE}</style>", '<section class="nbprod-card" id="nbprod-run">',
             f"<h1>nbprod run {_e(record.run_id)}"
             f'<span class="badge" style="background:{colour}">{state}</span></h1>']
    if record.failure is not None:
        failure = record.failure
        where = f" in cell {failure.cell_index}" if failure.cell_index is not None else ""
        exception = f": {failure.ename}: {failure.evalue}" if failure.ename else ""
        parts.append(f'<div class="failure"><strong>{_e(failure.kind)}</strong>{_e(where)}'
                     f"{_e(exception)}<br>{_e(failure.message)}</div>")
    parts.append('<div class="cols"><dl>')
    for label, value in _facts(record):
        parts.append(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>")
    parts.append("</dl><div>")
    parts.append(_table("parameters", record.parameters))
    parts.append(_table("values", record.values))
    parts.append("</div></div></section>")
    return "".join(parts)


def with_card(report: str, record: RunRecord) -> str:
    """``report`` (an nbconvert HTML page) with the card at the top of its body."""
    card = header_card(record)
    start = report.find("<body")
    end = report.find(">", start) if start != -1 else -1
    if end == -1:
        return card + report
    return report[: end + 1] + card + report[end + 1:]


def _facts(record: RunRecord) -> list[tuple[str, str]]:
    lineage = record.lineage
    facts = [("notebook", record.notebook),
             ("notebook version", (record.notebook_version or "-")[:16]),
             ("started", record.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
             ("duration", f"{record.duration:.1f} s" if record.duration is not None else "-"),
             ("git commit", (lineage.git_commit or "-")[:12]
              + (" (uncommitted changes)" if lineage.git_dirty else "")),
             ("environment", f"{(lineage.environment_digest or '-')[:16]} "
                             f"(Python {lineage.python or '?'})"),
             ("kernel", lineage.kernel or "-"),
             ("user", f"{lineage.user or '-'} on {lineage.host or '-'}")]
    if record.job_run_id:
        facts.append(("job run", f"{record.job_run_id} step {record.step or '-'}"))
    if record.sweep_id:
        facts.append(("sweep", f"{record.sweep_id} point {record.point}"))
    return facts


def _table(title: str, values: dict[str, Any]) -> str:
    if not values:
        return f"<div><strong>{title}</strong>: none</div>"
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(_text(v))}</td></tr>"
                   for k, v in values.items())
    return f"<table><tr><th>{title}</th><th></th></tr>{rows}</table>"


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 200 else text[:199] + "…"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)
