"""Job health at a moment: stale, failing or slow, from a job's schedule and its runs.

- **stale**: the newest scheduled time whose grace period has passed (croniter, in UTC) has
  no succeeded run started at or after it (a minute's slack for clocks). A stage moved after
  that time is not stale yet: nothing was due since.
- **failing**: the newest ``failing_after`` runs all failed (or were lost).
- **slow**: the newest run took (or, still running, has taken) more than ``slow_factor``
  times the median of the earlier succeeded runs (at least three of them).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_SLACK = dt.timedelta(seconds=60)
_MIN_HISTORY = 3


@dataclass(frozen=True)
class RunFacts:
    job_run_id: str
    state: str
    started_at: dt.datetime
    ended_at: dt.datetime | None


@dataclass(frozen=True)
class Problem:
    kind: str  # stale | failing | slow
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "detail": self.detail}


@dataclass(frozen=True)
class JobHealth:
    job: str
    stage: str
    version: int | None
    schedule: str
    at: dt.datetime
    problems: tuple[Problem, ...] = ()
    last_success: dt.datetime | None = None
    due: dt.datetime | None = None

    @property
    def healthy(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"job": self.job, "stage": self.stage, "version": self.version,
                "schedule": self.schedule, "at": self.at.isoformat(),
                "healthy": self.healthy, "problems": [p.to_json() for p in self.problems],
                "last_success": self.last_success.isoformat() if self.last_success else None,
                "due": self.due.isoformat() if self.due else None}


@dataclass(frozen=True)
class HealthLimits:
    grace: float = 3600.0
    failing_after: int = 3
    slow_factor: float = 3.0


def last_due(schedule: str, at: dt.datetime, grace: float) -> dt.datetime:
    """The newest scheduled time whose grace period has passed at ``at``."""
    from croniter import croniter

    start = at.astimezone(dt.UTC) - dt.timedelta(seconds=grace)
    due: dt.datetime = croniter(schedule, start).get_prev(dt.datetime)
    return due if due.tzinfo else due.replace(tzinfo=dt.UTC)


def assess(job: str, stage: str, version: int | None, schedule: str,
           runs: Sequence[RunFacts], at: dt.datetime, limits: HealthLimits,
           stage_moved_at: dt.datetime | None = None) -> JobHealth:
    """The health of ``job`` at ``stage`` at ``at``; ``runs`` newest first, started by then."""
    runs = [r for r in runs if r.started_at <= at]
    due = last_due(schedule, at, limits.grace)
    succeeded = [r for r in runs if r.state == "succeeded"]
    last_success = succeeded[0].started_at if succeeded else None
    problems = []
    fresh = stage_moved_at is not None and stage_moved_at > due
    if not fresh and (last_success is None or last_success < due - _SLACK):
        since = f"last succeeded run started {last_success:%Y-%m-%d %H:%M} UTC" \
            if last_success else "no succeeded run yet"
        problems.append(Problem("stale", f"no succeeded run since {due:%Y-%m-%d %H:%M} UTC "
                                         f"(schedule '{schedule}', grace "
                                         f"{_span(limits.grace)}); {since}"))
    newest = runs[: limits.failing_after]
    if len(newest) == limits.failing_after and all(r.state in ("failed", "lost")
                                                    for r in newest):
        problems.append(Problem("failing", f"the last {limits.failing_after} runs failed "
                                           f"(newest {newest[0].job_run_id})"))
    slow = _slow(runs, at, limits.slow_factor)
    if slow is not None:
        problems.append(slow)
    return JobHealth(job=job, stage=stage, version=version, schedule=schedule, at=at,
                     problems=tuple(problems), last_success=last_success, due=due)


def _slow(runs: Sequence[RunFacts], at: dt.datetime, factor: float) -> Problem | None:
    if not runs:
        return None
    newest, earlier = runs[0], runs[1:]
    history = [(r.ended_at - r.started_at).total_seconds() for r in earlier
               if r.state == "succeeded" and r.ended_at is not None]
    if len(history) < _MIN_HISTORY:
        return None
    typical = statistics.median(history)
    took = ((newest.ended_at or at) - newest.started_at).total_seconds()
    if typical <= 0 or took <= factor * typical:
        return None
    verb = "has been running for" if newest.ended_at is None else "took"
    return Problem("slow", f"run {newest.job_run_id} {verb} {_span(took)}, more than "
                           f"{factor:g}x the median {_span(typical)} of {len(history)} "
                           "earlier runs")


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
