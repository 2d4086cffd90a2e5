"""Text rendering of drift reports, monitor verdicts, job health, alerts and profiles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from .render import ago

if TYPE_CHECKING:
    from ..api.monitoring import MonitorOutcome
    from ..monitor.drift import DriftReport
    from ..monitor.health import JobHealth
    from ..records import AlertRecord, MonitorVerdict, ProfileRecord

_STATUS_STYLE = {"sent": "green", "failed": "red", "suppressed": "dim", "pending": "yellow",
                 "unrouted": "yellow"}


def _table(*columns: str) -> Table:
    table = Table(show_edge=False, box=None, padding=(0, 2, 0, 0), header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _flag(bad: bool, yes: str, no: str) -> Text:
    return Text(yes, style="red") if bad else Text(no, style="green")


def verdict_line(report: DriftReport) -> Text:
    head = f"{report.current} vs {report.reference}: "
    if report.drifted:
        names = ", ".join([*report.drifted_columns, *report.missing_columns])
        return Text(head + f"drift in {names}", style="red")
    return Text(head + f"no drift ({len(report.columns)} columns)", style="green")


def drift_table(report: DriftReport, only_drifted: bool = False) -> Table:
    table = _table("column", "kind", "statistic", "score", "p (Holm)", "threshold", "")
    shown = [c for c in report.columns if c.drifted] if only_drifted else report.columns
    for c in shown:
        p = "" if c.adjusted_p is None else f"{c.adjusted_p:.3g}"
        table.add_row(c.column, c.kind, c.statistic, f"{c.score:.4g}", p, f"{c.threshold:g}",
                      _flag(c.drifted, "drift", "ok"))
    for name in report.missing_columns:
        table.add_row(name, "-", "schema", "-", "", "", Text("missing", style="red"))
    return table


def monitor_summary(outcome: MonitorOutcome) -> list[Text | Table]:
    verdict = outcome.verdict
    head = Text(f"{verdict.job} version {verdict.version} ({verdict.stage}): ", style="bold")
    head.append(verdict.summary, style="red" if verdict.drifted or verdict.decayed else "green")
    blocks: list[Text | Table] = [head, Text(
        f"current job run {verdict.job_run_id}; reference job run "
        f"{verdict.reference_job_run_id or '-'}", style="dim")]
    for report in outcome.reports:
        blocks.append(verdict_line(report))
        if report.drifted:  # the drifted columns; `nbprod monitor --json` has them all
            blocks.append(drift_table(report, only_drifted=True))
    if outcome.decay:
        table = _table("metric", "now", "at promotion", "max drop", "")
        for d in outcome.decay:
            table.add_row(d.metric, _num(d.value), _num(d.baseline), f"{d.max_drop:g}",
                          _flag(d.decayed, "decay", "ok") if d.note is None else
                          Text(d.note, style="yellow"))
        blocks.append(table)
    retrain = verdict.details.get("retrain")
    if retrain:
        blocks.append(Text("retrain: " + (retrain.get("error") or (
            f"built {retrain['job']} version {retrain['version']}, challenger job run "
            f"{retrain['job_run_id']} {retrain['state']}; next: {retrain['next']}")),
            style="yellow"))
    blocks += [Text(f"note: {n}", style="yellow") for n in outcome.notes]
    blocks += [alert_line(a) for a in outcome.alerts]
    return blocks


def alert_line(alert: AlertRecord) -> Text:
    errors = "; ".join(str(d.get("error")) for d in alert.deliveries if not d.get("ok"))
    return Text(f"alert {alert.status}: {alert.title}" + (f" ({errors})" if errors else ""),
                style=_STATUS_STYLE.get(alert.status, ""))


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def verdicts_table(verdicts: Sequence[MonitorVerdict]) -> Table | Text:
    if not verdicts:
        return Text("no monitor verdicts recorded yet (nbprod monitor JOB)", style="dim")
    table = _table("id", "job", "stage", "version", "job run", "drift", "decay", "summary",
                   "when")
    for v in verdicts:
        table.add_row(str(v.verdict_id), v.job, v.stage, str(v.version), v.job_run_id or "-",
                      _flag(v.drifted, "yes", "no"), _flag(v.decayed, "yes", "no"),
                      v.summary, ago(v.created_at))
    return table


def health_table(found: Sequence[JobHealth], stage: str) -> Table | Text:
    if not found:
        return Text(f"no job has a schedule and a {stage} version", style="dim")
    table = _table("job", "stage", "version", "schedule", "health", "last success")
    for h in found:
        state = Text("healthy", style="green") if h.healthy else Text(
            "; ".join(f"{p.kind}: {p.detail}" for p in h.problems), style="red")
        table.add_row(h.job, h.stage, str(h.version), h.schedule, state,
                      ago(h.last_success, h.at) if h.last_success else "never")
    return table


def alerts_table(alerts: Sequence[AlertRecord]) -> Table | Text:
    if not alerts:
        return Text("no alerts recorded", style="dim")
    table = _table("id", "event", "status", "title", "deliveries", "when")
    for a in alerts:
        deliveries = "; ".join(
            f"{d.get('channel')}: " + ("ok" if d.get("ok") else str(d.get("error")))
            for d in a.deliveries) or "-"
        table.add_row(str(a.alert_id), a.event, Text(a.status, style=_STATUS_STYLE.get(
            a.status, "")), a.title, deliveries, ago(a.created_at))
    return table


def profiles_block(profiles: Sequence[ProfileRecord]) -> Table:
    table = _table("profiles", "rows", "columns", "data checks")
    for p in profiles:
        broken = [c for c in p.checks if not c.get("passed")]
        checks = Text("-") if not p.checks else Text(
            f"{len(p.checks)} passed", style="green") if not broken else Text(
            "; ".join(f"{c.get('column') or 'dataset'}: {c.get('rule')} broken by "
                      f"{c.get('failing_rows')} rows" for c in broken), style="red")
        table.add_row(p.name, f"{p.rows:,}", str(p.columns), checks)
    return table


def verdict_lines(verdicts: Sequence[MonitorVerdict]) -> list[Text]:
    return [Text(f"monitor verdict {v.verdict_id} ({v.stage}, {ago(v.created_at)}): "
                 f"{v.summary}", style="red" if v.drifted or v.decayed else "green")
            for v in verdicts]
