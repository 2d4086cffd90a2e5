"""A notebook's runs as an HTML table, and one recorded value across them as an SVG chart.

Everything shown comes from run records and is escaped: a recorded string cannot inject markup.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from ..api.browse import SeriesPoint

_COLOURS = {"succeeded": "#1a7f37", "failed": "#cf222e", "lost": "#8250df",
            "running": "#9a6700"}
_CELL = "padding:2px 8px;text-align:left;border-bottom:1px solid #d0d7de"


def shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 24 else text[:23] + "…"


def _pairs(mapping: dict[str, Any]) -> str:
    return "  ".join(f"{k}={shown(v)}" for k, v in mapping.items())


def runs_table(runs: Sequence[dict[str, Any]]) -> str:
    """Runs (``run_summary`` dicts, newest first) as a table: id, state, when, how long,
    parameters, values."""
    if not runs:
        return "<i>No runs of this notebook yet: Run records one.</i>"
    head = "".join(f'<th style="{_CELL}">{h}</th>' for h in
                   ("run", "state", "started", "took", "parameters", "values"))
    rows = []
    for run in runs:
        colour = _COLOURS.get(run["state"], "#59636e")
        took = f"{run['duration']:.1f} s" if run.get("duration") is not None else "-"
        state = run["state"] + (f" ({run['failure']['kind']})" if run.get("failure") else "")
        cells = [f"<code>{html.escape(run['run_id'])}</code>",
                 f'<span style="color:{colour}">{html.escape(state)}</span>',
                 html.escape(run["started_at"][:19].replace("T", " ")), took,
                 html.escape(_pairs(run["parameters"])), html.escape(_pairs(run["values"]))]
        rows.append("<tr>" + "".join(f'<td style="{_CELL}">{c}</td>' for c in cells) + "</tr>")
    return (f'<table style="border-collapse:collapse;font-size:12px"><thead><tr>{head}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def value_chart(points: Sequence[SeriesPoint], name: str, width: int = 560,
                height: int = 180) -> str:
    """``name`` across runs, oldest on the left: a line, a dot per run (red if it failed),
    each with a tooltip naming the run and its parameters."""
    if not points:
        return f"<i>No run recorded a number called {html.escape(name)}.</i>"
    values = [p.value for p in points]
    low, high = min(values), max(values)
    span = (high - low) or abs(high) or 1.0
    low, high = low - span * 0.1, high + span * 0.1
    left, bottom = 52, 22

    def x(i: int) -> float:
        return left + (width - left - 10) * (i / (len(points) - 1) if len(points) > 1 else 0.5)

    def y(v: float) -> float:
        return 8 + (height - bottom - 8) * (1 - (v - low) / (high - low))

    line = " ".join(f"{x(i):.1f},{y(p.value):.1f}" for i, p in enumerate(points))
    dots = []
    for i, p in enumerate(points):
        fill = "#0969da" if p.state == "succeeded" else _COLOURS.get(p.state, "#59636e")
        tip = f"{p.run_id}  {name}={shown(p.value)}  {_pairs(p.parameters)}"
        dots.append(f'<circle cx="{x(i):.1f}" cy="{y(p.value):.1f}" r="3.5" fill="{fill}">'
                    f"<title>{html.escape(tip)}</title></circle>")
    axis = "".join(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end" '
                   f'fill="#59636e">{html.escape(shown(v))}</text>'
                   for v in sorted({min(values), max(values)}))
    caption = f"{name} over {len(points)} runs, oldest to newest"
    return (f'<svg width="{width}" height="{height}" role="img" '
            f'aria-label="{html.escape(caption)}" xmlns="http://www.w3.org/2000/svg">'
            f'<polyline points="{line}" fill="none" stroke="#0969da" stroke-width="1.5" '
            f'stroke-opacity="0.5"/>{"".join(dots)}{axis}'
            f'<text x="{left}" y="{height - 6}" font-size="10" fill="#59636e">'
            f"{html.escape(caption)}</text></svg>")
