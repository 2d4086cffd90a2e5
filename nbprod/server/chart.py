"""A value across a notebook's runs, drawn server-side as an inline SVG (no script, no
external resource: the pages' Content-Security-Policy allows neither).

Each point links to its run and carries a tooltip (run id, value, parameters); failed runs are
red, the runs being compared are ringed.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Collection

from ..api.browse import SeriesPoint
from .present import number, pairs

WIDTH, HEIGHT = 880, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 16, 40
_COLOURS = {"succeeded": "#0969da", "failed": "#cf222e", "lost": "#8250df",
            "running": "#9a6700"}


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high == low:
        return [low]
    step = (high - low) / (count - 1)
    return [low + i * step for i in range(count)]


def line_chart(points: list[SeriesPoint], *, name: str, link: Callable[[str], str],
               highlight: Collection[str] = ()) -> str:
    """The SVG markup (every text escaped) for ``points``, oldest on the left."""
    if not points:
        return ""
    values = [p.value for p in points]
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or abs(high) * 0.05 or 1.0
    low, high = low - pad, high + pad
    inner_w, inner_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def x(i: int) -> float:
        return _LEFT + (inner_w * i / (len(points) - 1) if len(points) > 1 else inner_w / 2)

    def y(v: float) -> float:
        return _TOP + inner_h * (1 - (v - low) / (high - low))

    out = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-label="{html.escape(name)} across runs" xmlns="http://www.w3.org/2000/svg">']
    for tick in _ticks(low + pad, high - pad):
        ty = y(tick)
        out.append(f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
                   f'stroke="#d8dee4" stroke-width="1"/>')
        out.append(f'<text x="{_LEFT - 8}" y="{ty + 4:.1f}" text-anchor="end" '
                   f'font-size="11" fill="#59636e">{html.escape(number(tick))}</text>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(p.value):.1f}"
                    for i, p in enumerate(points))
    out.append(f'<path d="{path}" fill="none" stroke="#0969da" stroke-opacity="0.45" '
               f'stroke-width="1.5"/>')
    for i, point in enumerate(points):
        colour = _COLOURS.get(point.state, "#59636e")
        ringed = point.run_id in highlight
        tip = f"{point.run_id}  {name}={number(point.value)}  {pairs(point.parameters, 6)}"
        out.append(f'<a href="{html.escape(link(point.run_id))}"><circle cx="{x(i):.1f}" '
                   f'cy="{y(point.value):.1f}" r="{6 if ringed else 3.5}" fill="{colour}"'
                   + (' stroke="#fb8500" stroke-width="3"' if ringed else "")
                   + f"><title>{html.escape(tip)}</title></circle></a>")
    first, last = points[0].run_id[:15], points[-1].run_id[:15]
    out.append(f'<text x="{_LEFT}" y="{HEIGHT - 12}" font-size="11" fill="#59636e">'
               f"{html.escape(first)}</text>")
    out.append(f'<text x="{WIDTH - _RIGHT}" y="{HEIGHT - 12}" font-size="11" '
               f'text-anchor="end" fill="#59636e">{html.escape(last)}</text>')
    out.append(f'<text x="{WIDTH / 2:.0f}" y="{HEIGHT - 12}" font-size="11" '
               f'text-anchor="middle" fill="#59636e">{len(points)} runs, oldest to newest'
               f"</text></svg>")
    return "".join(out)
