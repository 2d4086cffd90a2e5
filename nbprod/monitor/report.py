"""The drift report as one self-contained HTML page: a table and binned summaries only.

Per column, the reference's and the current data's shares over 20 common bins (numbers,
dates, text lengths; read off the percentile sketches) or over the kept values (categories),
drawn as inline SVG bars. No rows and no script: its size depends on the columns, not on the
row count.
"""

from __future__ import annotations

import html

import numpy as np

from .drift import ColumnDrift, DriftReport, sketch_cdf
from .profile import BINS, ColumnProfile, Profile, as_counts, merged_counts

_STYLE = """body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;
text-align:left}.drift{color:#b00020;font-weight:600}.ok{color:#2e7d32}
.col{margin:1.5em 0}.ref{fill:#90a4ae}.cur{fill:#ef6c00}small{color:#666}"""


def render_html(report: DriftReport, reference: Profile, current: Profile) -> str:
    verdict = "drift" if report.drifted else "no drift"
    rows = "".join(_row(c) for c in report.columns)
    charts = "".join(_chart(c, reference.column(c.column), current.column(c.column))
                     for c in report.columns)
    missing = (f"<p class=drift>missing in the current data: "
               f"{html.escape(', '.join(report.missing_columns))}</p>"
               if report.missing_columns else "")
    return (f"<!doctype html><html><head><meta charset=utf-8><title>nbprod drift: "
            f"{html.escape(report.current)} vs {html.escape(report.reference)}</title>"
            f"<style>{_STYLE}</style></head><body>"
            f"<h1>Drift: {html.escape(report.current)} against "
            f"{html.escape(report.reference)}</h1>"
            f"<p class={'drift' if report.drifted else 'ok'}>Dataset: {verdict} "
            f"({len(report.drifted_columns)} of {len(report.columns)} columns drifted)</p>"
            f"<p><small>{report.rows_reference} reference rows, {report.rows_current} current "
            f"rows. {html.escape(report.rule[:1].upper() + report.rule[1:])}.</small></p>{missing}"
            f"<table><tr><th>column</th><th>kind</th><th>statistic</th><th>score</th>"
            f"<th>p-value (Holm)</th><th>threshold</th><th>verdict</th></tr>{rows}</table>"
            f"{charts}<p><small><svg width=12 height=12><rect class=ref width=12 height=12>"
            f"</rect></svg> reference <svg width=12 height=12><rect class=cur width=12 "
            f"height=12></rect></svg> current</small></p></body></html>")


def _row(column: ColumnDrift) -> str:
    p = "" if column.adjusted_p is None else f"{column.p_value:.3g} ({column.adjusted_p:.3g})"
    verdict = "<span class=drift>drift</span>" if column.drifted else "<span class=ok>ok</span>"
    return (f"<tr><td>{html.escape(column.column)}</td><td>{column.kind}</td>"
            f"<td>{column.statistic}</td><td>{column.score:.4g}</td><td>{p}</td>"
            f"<td>{column.threshold:g}</td><td>{verdict}</td></tr>")


def _chart(column: ColumnDrift, ref: ColumnProfile | None, cur: ColumnProfile | None) -> str:
    if ref is None or cur is None:
        return ""
    labels, a, b = _binned(ref, cur)
    if not labels:
        return ""
    width, height, gap = 640, 120, 2
    step = width / len(labels)
    top = max([*a, *b, 1e-12])
    bars = []
    for i, (share_a, share_b) in enumerate(zip(a, b, strict=True)):
        x = i * step
        for offset, share, cls in ((0.0, share_a, "ref"), (step / 2, share_b, "cur")):
            h = height * share / top
            bars.append(f"<rect class={cls} x={x + offset:.1f} y={height - h:.1f} "
                        f"width={max(step / 2 - gap, 1):.1f} height={h:.1f}><title>"
                        f"{html.escape(labels[i])}: {share:.1%}</title></rect>")
    first, last = html.escape(labels[0]), html.escape(labels[-1])
    return (f"<div class=col><h3>{html.escape(column.column)} "
            f"<small>{column.statistic} {column.score:.3g}</small></h3>"
            f"<svg width={width} height={height} role=img>{''.join(bars)}</svg>"
            f"<br><small>{first} … {last}</small></div>")


def _binned(ref: ColumnProfile, cur: ColumnProfile) -> tuple[list[str], list[float],
                                                                list[float]]:
    """Shares of both columns over common bins (numbers) or kept values (categories)."""
    if as_counts((ref, cur)):
        labels, a, b = merged_counts(ref, cur)
        ta, tb = max(sum(a), 1), max(sum(b), 1)
        return labels, [x / ta for x in a], [x / tb for x in b]
    if ref.numeric is None or cur.numeric is None:
        return [], [], []
    low = min(ref.numeric.min, cur.numeric.min)
    high = max(ref.numeric.max, cur.numeric.max)
    if high <= low:
        return [f"{low:.4g}"], [1.0], [1.0]
    edges = np.linspace(low, high, BINS + 1)
    shares = []
    for profile in (ref, cur):
        assert profile.numeric is not None
        cdf = sketch_cdf(edges, np.asarray(profile.numeric.quantiles))
        cdf[-1] = 1.0
        binned = np.diff(cdf)
        binned[0] += cdf[0]
        shares.append([float(x) for x in binned])
    labels = [f"{edges[i]:.4g} to {edges[i + 1]:.4g}" for i in range(BINS)]
    return labels, shares[0], shares[1]
