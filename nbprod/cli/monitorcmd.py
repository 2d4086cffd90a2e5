"""``nbprod drift``, ``nbprod monitor``, ``nbprod health``, ``nbprod alerts``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..errors import EXIT_FINDINGS, EXIT_OK, InvalidInput
from .common import json_option, print_json, project, settings
from .render import console

_FINDINGS = ("Exit codes: 0 nothing found; 1 found (drift, decay, an unhealthy job);\n"
             "2 invalid input; 4 registry or store failure.")


@click.command("drift", help=f"""Compare two datasets: per column a drift statistic suited to
its kind and size, and a verdict for the dataset.

REFERENCE and CURRENT are CSV or Parquet files, or RUN_ID:NAME for a profile a run recorded
with nbprod.profile(df, NAME). Up to 1000 rows (monitor.large) a column is tested
(Kolmogorov-Smirnov, chi-square; Holm-adjusted at monitor.alpha, 0.01); above, its
Wasserstein or Jensen-Shannon distance is compared with monitor.threshold (0.1).

\b
  nbprod drift data/train.csv data/today.parquet
  nbprod drift 20261201-060000-123-abcdef:training k3m9x2:scoring_input --html drift.html

\b
{_FINDINGS}""")
@click.argument("reference")
@click.argument("current")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report (binned summaries, no rows) to this HTML file.")
@json_option
def drift_command(reference: str, current: str, html_file: Path | None, as_json: bool) -> int:
    from ..api.drift import drift, is_run_profile
    from ..monitor.drift import DriftOptions
    from ..monitor.settings import parse_monitor

    resolved = settings()
    options = parse_monitor(resolved.raw.get("monitor"))
    proj = project(resolved) if is_run_profile(reference) or is_run_profile(current) \
        else None
    try:
        result = drift(reference, current, DriftOptions(options.alpha, options.large,
                                                        options.threshold), proj)
    finally:
        if proj is not None:
            proj.close()
    if html_file is not None:
        html_file.write_text(result.html(), encoding="utf-8")
    if as_json:
        print_json({**result.to_json(), "html": str(html_file) if html_file else None})
    else:
        from .monitorrender import drift_table, verdict_line

        out = console()
        out.print(verdict_line(result.report))
        out.print(drift_table(result.report))
        if html_file is not None:
            out.print(f"report: {html_file}", highlight=False)
    return EXIT_FINDINGS if result.report.drifted else EXIT_OK


@click.command("monitor", help=f"""Compare what job NAME's stage scores with what its model
was trained on, and its recorded metrics with their value at promotion.

The newest succeeded run at the stage is compared with the reference profiles: those of the
run that trained what it used (a job whose steps read another job's files, `uses`), else of
the stage's version's run at promotion. Metrics in [tool.nbprod.monitor.jobs.NAME].decay
that dropped by more than their threshold are decay. The verdict is recorded; drift or decay
sends an alert; on_drift = "retrain" builds and runs a challenger version (promote it as
usual: gates and approvals still decide).

\b
  nbprod monitor score
  nbprod monitor score --history

\b
{_FINDINGS}""")
@click.argument("name")
@click.option("--stage", help="The stage to watch [default: the job's monitor stage, "
                              "production].")
@click.option("--history", is_flag=True, help="List the recorded verdicts instead.")
@click.option("--last", type=click.IntRange(min=1), default=20, show_default=True,
              help="With --history: how many.")
@json_option
def monitor_command(name: str, stage: str | None, history: bool, last: int,
                    as_json: bool) -> int:
    from ..api.monitoring import list_verdicts, monitor_job
    from .monitorrender import monitor_summary, verdicts_table

    with project() as proj:
        if history:
            verdicts = list_verdicts(proj, name, stage, limit=last)
            if as_json:
                print_json([v.to_json() for v in verdicts])
            else:
                console().print(verdicts_table(verdicts))
            return EXIT_OK
        outcome = monitor_job(proj, name, stage)
    if as_json:
        print_json(outcome.to_json())
    else:
        out = console()
        for block in monitor_summary(outcome):
            out.print(block)
    verdict = outcome.verdict
    return EXIT_FINDINGS if verdict.drifted or verdict.decayed else EXIT_OK


@click.command("health", help=f"""Check every job with a schedule and a stage pointer: stale
(no succeeded run since its last scheduled time plus monitor.grace), failing
(monitor.failing_after failed runs in a row) or slow (monitor.slow_factor times its median).

Exits 1 when a job is unhealthy, so cron or CI can run it; each unhealthy job sends an
alert (once per window). Schedules are read in UTC.

\b
  nbprod health
  nbprod health --at 2026-12-01T09:00:00Z --json

\b
{_FINDINGS}""")
@click.option("--at", "at", metavar="TIME", help="Judge as of this ISO 8601 time [default: "
                                                 "now; without a zone: UTC].")
@click.option("--stage", default="production", show_default=True)
@click.option("--no-alerts", is_flag=True, help="Report only; send no alert.")
@json_option
def health_command(at: str | None, stage: str, no_alerts: bool, as_json: bool) -> int:
    from ..api.health import job_health
    from .monitorrender import health_table

    moment = _moment(at) if at else None
    with project() as proj:
        found, alerts = job_health(proj, at=moment, stage=stage, alert=not no_alerts)
    if as_json:
        print_json({"healthy": all(h.healthy for h in found),
                    "jobs": [h.to_json() for h in found],
                    "alerts": [a.to_json() for a in alerts]})
    else:
        console().print(health_table(found, stage))
    return EXIT_OK if all(h.healthy for h in found) else EXIT_FINDINGS


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"--at {text!r} is not an ISO 8601 time",
                           hint="e.g. 2026-12-01T09:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@click.command("alerts")
@click.argument("job", required=False)
@click.option("--status", type=click.Choice(["sent", "failed", "suppressed", "pending",
                                             "unrouted"]),
              help="Only alerts in this state (failed: could not be delivered).")
@click.option("--last", type=click.IntRange(min=1), default=20, show_default=True)
@json_option
def alerts_command(job: str | None, status: str | None, last: int, as_json: bool) -> int:
    """List alerts (of JOB), newest first: sent, suppressed as repeats, failed to deliver
    (with each channel's error) or unrouted (no channel configured)."""
    from ..api.alerting import list_alerts
    from .monitorrender import alerts_table

    with project() as proj:
        found = list_alerts(proj, job, status=status, limit=last)
    if as_json:
        print_json([a.to_json() for a in found])
    else:
        console().print(alerts_table(found))
    return EXIT_OK
