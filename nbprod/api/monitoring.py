"""Use case: monitor a job's stage: drift of what it scores, decay of what it records.

1. The current job run: the newest succeeded job run of the job at the stage (what production
   scored), and the profiles its steps recorded.
2. The reference job run: the run that trained what the current run used. When its steps read
   files of another job's runs (``uses``: the pipeline in production trained the model), that
   job run; otherwise the job run of the stage's version that the promotion saw (the newest
   succeeded one started before the stage moved to it). Its profiles are the reference.
3. Each current profile is compared with the reference profile of the same name (or the one
   ``datasets`` maps it to); each decay rule's metric with its value at promotion.
4. The verdict is recorded; drift or decay sends an alert; ``on_drift = "retrain"`` builds and
   runs a challenger (see :mod:`.retrain`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import NotFound
from ..monitor.alerts import Alert
from ..monitor.drift import DriftOptions, DriftReport, compare
from ..monitor.profile import Profile
from ..monitor.settings import DecayRule, JobMonitor, MonitorSettings
from ..records import AlertRecord, JobRun, MonitorVerdict, RunRecord, StagePointer
from .alerting import link, monitor_settings, notify
from .project import Project


@dataclass(frozen=True)
class Decay:
    metric: str
    value: float | None
    baseline: float | None
    max_drop: float
    decayed: bool
    history: tuple[tuple[str, float], ...] = ()  # (job run, value), newest first
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "value": self.value, "baseline": self.baseline,
                "max_drop": self.max_drop, "decayed": self.decayed,
                "history": [list(h) for h in self.history], "note": self.note}


@dataclass(frozen=True)
class MonitorOutcome:
    verdict: MonitorVerdict
    reports: tuple[DriftReport, ...] = ()
    decay: tuple[Decay, ...] = ()
    alerts: tuple[AlertRecord, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {**self.verdict.to_json(), "alerts": [a.to_json() for a in self.alerts],
                "notes": list(self.notes)}


def monitor_job(project: Project, job: str, stage: str | None = None, *,
                act: bool = True) -> MonitorOutcome:
    """Compare the stage's newest run with its reference; record the verdict; alert, and
    retrain when the job says so (``act``)."""
    settings = monitor_settings(project)
    config = settings.job(job)
    stage = stage or config.stage
    pointer = project.registry.jobs.stage(job, stage)
    if pointer is None:
        raise NotFound(f"stage {stage} of job {job} points at no version",
                       hint=f"nbprod promote {job} VERSION --to {stage}")
    current = latest_at_stage(project, job, stage)
    if current is None:
        raise NotFound(f"job {job} has no succeeded run at {stage} yet",
                       hint=f"nbprod job run {job} --stage {stage}")
    records = step_records(project, current)
    reference = _reference_run(project, current, records, pointer)
    reports, notes = _drift(project, settings, config, current, reference)
    decays = tuple(_decay(project, rule, current, pointer) for rule in config.decay)
    drifted = any(r.drifted for r in reports)
    decayed = any(d.decayed for d in decays)
    details: dict[str, Any] = {"drift": [r.to_json() for r in reports],
                               "decay": [d.to_json() for d in decays], "notes": notes}
    if act and drifted and config.on_drift == "retrain":
        from .retrain import recent_retrain, retrain

        earlier = recent_retrain(project, job, stage, settings.alerts.window)
        if earlier is not None:
            notes.append(f"not retrained again: verdict {earlier.verdict_id} retrained "
                         f"{earlier.details['retrain'].get('job')} within the alert window")
        else:
            details["retrain"] = retrain(project, config, reference.job if reference else job)
    verdict = project.registry.monitor.add_verdict(MonitorVerdict(
        job=job, stage=stage, version=pointer.version, job_run_id=current.job_run_id,
        reference_job_run_id=reference.job_run_id if reference else None, drifted=drifted,
        decayed=decayed, summary=_summary(reports, decays, notes), details=details,
        user=project.user))
    alerts: list[AlertRecord] = []
    if act:
        for alert in _alerts(project, settings, verdict, reports, decays):
            record, problem = notify(project, alert)
            alerts += [record] if record else []
            notes += [problem] if problem else []
    return MonitorOutcome(verdict, tuple(reports), decays, tuple(alerts), tuple(notes))


def latest_at_stage(project: Project, job: str, stage: str,
                    state: str | None = "succeeded") -> JobRun | None:
    return next((r for r in project.registry.jobs.runs(job, state=state, limit=200)
                 if r.stage == stage), None)


def step_records(project: Project, job_run: JobRun) -> list[RunRecord]:
    ids = [s.run_id for s in job_run.steps if s.run_id]
    return project.registry.list_runs(run_ids=ids)


def at_promotion(project: Project, pointer: StagePointer) -> JobRun | None:
    """The job run of the stage's version the promotion saw (newest succeeded before it)."""
    runs = project.registry.jobs.runs(pointer.job, version=pointer.version, state="succeeded",
                                      limit=200)
    before = [r for r in runs if r.started_at <= pointer.moved_at]
    return before[0] if before else (runs[-1] if runs else None)


def _reference_run(project: Project, current: JobRun, records: Sequence[RunRecord],
                   pointer: StagePointer) -> JobRun | None:
    own = {s.run_id for s in current.steps}
    upstream = [rid for r in records for rid in r.lineage.upstream.values() if rid not in own]
    for record in project.registry.list_runs(run_ids=upstream):
        if record.job_run_id:
            return project.registry.jobs.run(record.job_run_id)
    return at_promotion(project, pointer)


def _profiles(project: Project, job_run: JobRun) -> dict[str, Profile]:
    ids = [s.run_id for s in job_run.steps if s.run_id]
    found: dict[str, Profile] = {}
    for entry in project.registry.monitor.profiles(ids):
        data = project.store.read_bytes(f"runs/{entry.run_id}/{entry.artifact}", entry.sha256)
        found[entry.name] = Profile.from_json(json.loads(data)["profile"])
    return found


def _drift(project: Project, settings: MonitorSettings, config: JobMonitor, current: JobRun,
           reference: JobRun | None) -> tuple[list[DriftReport], list[str]]:
    options = DriftOptions(alpha=settings.alpha, large=settings.large,
                           threshold=settings.threshold)
    ours = _profiles(project, current)
    theirs = _profiles(project, reference) if reference else {}
    reports, notes = [], []
    for name, profile in ours.items():
        wanted = config.datasets.get(name, name)
        if wanted in theirs:
            reports.append(compare(theirs[wanted], profile, options))
        elif name in config.datasets or not config.datasets:
            notes.append(f"dataset {name}: no reference profile '{wanted}' in job run "
                         f"{reference.job_run_id if reference else '(none)'}")
    if not ours:
        notes.append(f"job run {current.job_run_id} recorded no profiles "
                     "(nbprod.profile(df, NAME) records one)")
    return reports, notes


def _values(project: Project, job_run: JobRun) -> dict[str, dict[str, Any]]:
    records = {r.run_id: r for r in step_records(project, job_run)}
    return {s.step: dict(records[s.run_id].values) for s in job_run.steps
            if s.run_id in records}


def metric(values: Mapping[str, Mapping[str, Any]], name: str) -> float | None:
    """``STEP.NAME`` or a name any step recorded, as a number."""
    step, _, short = name.rpartition(".")
    found = values.get(step, {}).get(short) if step and step in values else next(
        (v[name] for v in values.values() if name in v), None)
    if isinstance(found, bool) or not isinstance(found, int | float):
        return None
    return float(found)


def _decay(project: Project, rule: DecayRule, current: JobRun,
           pointer: StagePointer) -> Decay:
    baseline_run = at_promotion(project, pointer)
    baseline = metric(_values(project, baseline_run), rule.metric) if baseline_run else None
    runs = [r for r in project.registry.jobs.runs(pointer.job, version=pointer.version,
                                                  state="succeeded", limit=10)
            if r.stage == pointer.stage]
    history = tuple((r.job_run_id, v) for r in runs
                    if (v := metric(_values(project, r), rule.metric)) is not None)
    value = metric(_values(project, current), rule.metric)
    if value is None or baseline is None:
        missing = "the current run" if value is None else "the run at promotion"
        return Decay(rule.metric, value, baseline, rule.max_drop, False, history,
                     note=f"{rule.metric} was not recorded by {missing}")
    drop = baseline - value if rule.higher_is_better else value - baseline
    return Decay(rule.metric, value, baseline, rule.max_drop, drop > rule.max_drop, history)


def _summary(reports: Sequence[DriftReport], decays: Sequence[Decay],
             notes: Sequence[str]) -> str:
    parts = []
    for report in reports:
        if report.drifted:
            columns = ", ".join(_scored(report)[:6])
            parts.append(f"drift in {report.current}: {columns}")
    if reports and not any(r.drifted for r in reports):
        parts.append(f"no drift ({len(reports)} dataset{'s' if len(reports) != 1 else ''}, "
                     f"{sum(len(r.columns) for r in reports)} columns)")
    for decay in decays:
        if decay.decayed:
            parts.append(f"decay: {decay.metric} {decay.value:.4g} vs {decay.baseline:.4g} "
                         f"at promotion (max drop {decay.max_drop:g})")
    if decays and not any(d.decayed for d in decays):
        parts.append("no decay")
    if not parts:
        parts.append(notes[0] if notes else "nothing to compare")
    return "; ".join(parts)


def _scored(report: DriftReport) -> list[str]:
    return [f"{c.column} ({c.statistic} {c.score:.3g})" for c in report.columns if c.drifted] \
        + [f"{name} (missing)" for name in report.missing_columns]


def _alerts(project: Project, settings: MonitorSettings, verdict: MonitorVerdict,
            reports: Sequence[DriftReport], decays: Sequence[Decay]) -> list[Alert]:
    """One alert per verdict that found drift or decay (repeats share its key)."""
    drifted = [r for r in reports if r.drifted]
    decayed = [d for d in decays if d.decayed]
    if not drifted and not decayed:
        return []
    columns = sorted(c for r in drifted for c in [*r.drifted_columns, *r.missing_columns])
    metrics = sorted(d.metric for d in decayed)
    lines = [f"{r.current} vs reference {r.reference} (job run "
             f"{verdict.reference_job_run_id}): drifted " + ", ".join(_scored(r))
             for r in drifted]
    lines += [f"{d.metric} = {d.value:.4g}, {d.baseline:.4g} at promotion (max drop "
              f"{d.max_drop:g})" for d in decayed]
    found = [f"data drift in {len(columns)} column{'s' if len(columns) != 1 else ''}"] \
        if columns else []
    found += [f"{', '.join(metrics)} decayed"] if metrics else []
    return [Alert(
        event="drift" if columns else "decay",
        key=f"monitor:{verdict.job}:{verdict.stage}:{verdict.version}:{','.join(columns)}:"
            f"{','.join(metrics)}",
        title=f"{verdict.job} version {verdict.version} ({verdict.stage}): "
              + " and ".join(found),
        lines=(*lines, f"job run {verdict.job_run_id}", *_differs(project, verdict)),
        fields={"job": verdict.job, "stage": verdict.stage, "version": verdict.version,
                "job_run_id": verdict.job_run_id, "drifted_columns": columns,
                "decayed_metrics": [d.to_json() for d in decayed],
                "verdict_id": verdict.verdict_id},
        link=link(settings, f"jobs/{verdict.job}"))]


def _differs(project: Project, verdict: MonitorVerdict) -> list[str]:
    """What differs between the current job run and the newest earlier one without drift or
    decay (the last good run)."""
    good = next((v for v in project.registry.monitor.verdicts(verdict.job, stage=verdict.stage,
                                                              limit=50)
                 if not v.drifted and not v.decayed and v.job_run_id != verdict.job_run_id
                 and v.job_run_id), None)
    if good is None or verdict.job_run_id is None or good.job_run_id is None:
        return ["no earlier run without drift or decay to compare with"]
    return differences(project, good.job_run_id, verdict.job_run_id)


def differences(project: Project, good_id: str, bad_id: str, limit: int = 6) -> list[str]:
    """One line per field that differs between two job runs' steps (parameters, code, ...)."""
    from .compare import diff_runs

    good = {s.step: s.run_id for s in project.registry.jobs.run(good_id).steps if s.run_id}
    lines = []
    for step in project.registry.jobs.run(bad_id).steps:
        if step.run_id and step.step in good and good[step.step] != step.run_id:
            diff = diff_runs(project, str(good[step.step]), step.run_id)
            lines += [f"{step.step} {c.section} {c.name}: {_short(c.left)} → {_short(c.right)}"
                      for c in diff.changes if c.section not in ("values", "environment")]
    head = f"differs from the last good run {good_id}"
    if not lines:
        return [f"{head}: in no parameter, code or input (only the data)"]
    return [f"{head}:", *lines[:limit]] + ([f"… and {len(lines) - limit} more"]
                                           if len(lines) > limit else [])


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


def list_verdicts(project: Project, job: str | None = None, stage: str | None = None,
                  limit: int = 20) -> list[MonitorVerdict]:
    """Recorded monitor verdicts, newest first."""
    return project.registry.monitor.verdicts(job, stage=stage, limit=limit)


def verdicts_for_run(project: Project, record: RunRecord) -> list[MonitorVerdict]:
    """The verdicts about the job run a run belongs to (for ``nbprod show``)."""
    if not record.job_run_id:
        return []
    return project.registry.monitor.verdicts(job_run_ids=[record.job_run_id])
