"""Progress as server-sent events: one ``data:`` line of JSON per change, at least one a second
while something runs (so elapsed time moves), and the last one with ``"final": true``.

Server-sent events work with the browser's ``EventSource`` (the login cookie), with ``fetch``
and a token header (a JupyterLab extension), and with ``curl -N``; each event is the same JSON
object ``GET /tasks/{id}`` answers (a Task) or, for runs this server did not start, the
registry's view of the run.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tornado.iostream import StreamClosedError

from ..records import FINAL_STATES, JobRun, RunRecord
from .tasks import Task

Poll = Callable[[], Awaitable[dict[str, Any]]]


async def stream(handler: Any, poll: Poll, interval: float = 0.5) -> None:
    """Send ``poll()``'s snapshots until one is final or the client goes away."""
    handler.set_header("Content-Type", "text/event-stream")
    handler.set_header("Cache-Control", "no-cache")
    handler.set_header("X-Accel-Buffering", "no")
    last: dict[str, Any] | None = None
    sent = 0.0
    try:
        while True:
            snapshot = await poll()
            now = time.monotonic()
            if snapshot != last or now - sent >= 1.0:
                handler.write(f"data: {json.dumps(snapshot, default=str)}\n\n")
                await handler.flush()
                last, sent = snapshot, now
            if snapshot.get("final"):
                break
            await asyncio.sleep(interval)
    except StreamClosedError:
        return
    handler.finish(set_content_type="text/event-stream")


def run_progress(record: RunRecord, task: Task | None) -> dict[str, Any]:
    """A run's progress: its task's while this server runs it, else the registry's."""
    if task is not None and not task.final:
        return {**task.snapshot(), "state": "running", "run_id": record.run_id,
                "final": False}
    final = record.state in FINAL_STATES
    elapsed = record.duration if final else time.time() - record.started_at.timestamp()
    return {"run_id": record.run_id, "state": record.state, "final": final,
            "elapsed": round(elapsed or 0.0, 1), "cell": None, "cells": None,
            "label": None if final else "running (started elsewhere: cell progress is shown "
                                        "for runs started from this server)",
            "failure": record.failure.to_json() if record.failure else None}


def job_run_progress(job_run: JobRun, task: Task | None) -> dict[str, Any]:
    """A job run's progress: its task's while this server runs it, else the registry's."""
    steps = [s.to_json() for s in job_run.steps]
    if task is not None and not task.final:
        return {**task.snapshot(), "state": "running", "job_run_id": job_run.job_run_id,
                "steps": steps, "final": False}
    final = job_run.state in FINAL_STATES
    end = job_run.ended_at.timestamp() if job_run.ended_at else time.time()
    return {"job_run_id": job_run.job_run_id, "state": job_run.state, "final": final,
            "elapsed": round(end - job_run.started_at.timestamp(), 1), "steps": steps,
            "cell": None, "cells": None, "label": None,
            "failure": job_run.failure.to_json() if job_run.failure else None}
