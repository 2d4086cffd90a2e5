"""Data checks in a run, monitor verdicts, retraining and health on a small real job.

The job ``watch`` has one step, tests/data/monitor/profiled.ipynb, which profiles a seeded
frame as ``input``; ``shift`` moves its column ``x``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbprod import api
from nbprod.api.jobs import JobRunRequest, build_job, run_job
from nbprod.api.monitoring import monitor_job
from nbprod.api.promotion import approve, promote
from nbprod.api.watch import after_job_run
from nbprod.config import load_settings
from nbprod.errors import GateFailed, NotFound
from nbprod.jobs.spec import job_spec

from ..conftest import DATA, run_json

pytestmark = pytest.mark.slow
NOTEBOOK = DATA.parent / "monitor" / "profiled.ipynb"
# identity = "env": the tests act as several users (builder, approver) through NBPROD_USER.
SETTINGS = """notebook_dir = "."
identity = "env"

[notebooks.profiled]
path = "profiled.ipynb"

[jobs.watch]
steps = ["profiled"]
schedule = "0 6 * * *"

[jobs.watch.promotion.production]
gates = ["succeeded_run",
         { gate = "not_worse", metric = "profiled.x_mean", margin = 0.5, higher_is_better = false }]
approvals = 1

[monitor]
grace = "1h"
failing_after = 2

[monitor.jobs.watch]
on_drift = "retrain"
decay = { "profiled.x_mean" = { max_drop = 0.3, higher_is_better = false } }

[monitor.checks.input]
rows = { min = 100 }
columns = { age = { type = "numeric", min = 0, max = 120 } }
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "watched"
    folder.mkdir()
    (folder / "nbprod.toml").write_text(SETTINGS)
    shutil.copy(NOTEBOOK, folder / "profiled.ipynb")
    return folder


@pytest.fixture
def as_user(root: Path) -> Iterator[object]:
    opened: list[api.Project] = []

    def open_as(user: str) -> api.Project:
        project = api.open_project(load_settings(root, env={}), {"NBPROD_USER": user})
        opened.append(project)
        return project

    yield open_as
    for project in opened:
        project.close()


def test_a_broken_data_check_fails_the_run_as_data_check(root: Path) -> None:
    code, record = run_json(root, "run", "profiled", "-p", "bad_ages", "7")
    assert code == 3 and record["state"] == "failed"
    assert record["failure"]["kind"] == "data_check"
    assert record["failure"]["check"] == {"dataset": "input", "column": "age",
                                          "rule": "max 120", "failing_rows": 7}
    code, shown = run_json(root, "show", record["run_id"])
    (profile,) = shown["profiles"]
    assert profile["passed"] is False and profile["rows"] == 300
    broken = [c for c in profile["checks"] if not c["passed"]]
    assert broken == [{"dataset": "input", "column": "age", "rule": "max 120",
                       "failing_rows": 7, "passed": False}]
    assert "profiles/input.json" in {a["name"] for a in shown["artifacts"]}

    code, ok = run_json(root, "run", "profiled", "-p", "rows", "50")
    assert code == 3 and ok["failure"]["check"]["rule"] == "rows >= 100"
    code, fine = run_json(root, "run", "profiled")
    assert code == 0 and fine["state"] == "succeeded"
    artifact = next(a for a in fine["artifacts"] if a["name"] == "profiles/input.json")
    assert json.loads(Path(artifact["path"]).read_text())["profile"]["rows"] == 300

    code, drift = run_json(root, "drift", f"{fine['run_id']}:input", f"{record['run_id']}:input")
    assert code == 0 and drift["drifted"] is False
    code, missing = run_json(root, "drift", f"{fine['run_id']}:nothing", "x.csv")
    assert code == 2 and "recorded no profile 'nothing'" in missing["error"]["message"]


def test_drift_retrains_a_challenger_whose_promotion_still_needs_gates_and_approvals(
        as_user: object, root: Path) -> None:
    ann, dan = as_user("ann"), as_user("dan")  # type: ignore[operator]
    spec = job_spec(ann.settings, "watch")
    with pytest.raises(NotFound, match="points at no version"):
        monitor_job(ann, "watch")
    first = build_job(ann, spec).version.version
    assert run_job(ann, spec, JobRunRequest(version=first)).state == "succeeded"
    approve(dan, spec, first)
    assert promote(ann, spec, first, "production").moved

    calm = run_job(ann, spec, JobRunRequest(stage="production"))
    followup = after_job_run(ann, calm)
    assert followup.monitor is not None and not followup.monitor.verdict.drifted
    assert [a.status for a in followup.alerts] == []

    notebook = root / "profiled.ipynb"  # the data scientist changes the notebook meanwhile
    data = json.loads(notebook.read_text())
    data["cells"].append({"cell_type": "markdown", "id": "later", "metadata": {},
                          "source": "reviewed"})
    notebook.write_text(json.dumps(data))
    shifted = run_job(ann, spec, JobRunRequest(
        stage="production", parameters={"profiled": {"shift": api.GivenValue(1.0, "-p")}}))
    outcome = after_job_run(ann, shifted).monitor
    assert outcome is not None and outcome.verdict.drifted
    assert outcome.reports[0].drifted_columns == ["x"]
    assert outcome.verdict.decayed  # x_mean rose by ~1 (lower is better, max 0.3)
    retrained = outcome.verdict.details["retrain"]
    assert retrained["created"] is True and retrained["version"] == first + 1
    assert retrained["state"] == "succeeded" and retrained["champion"] == first
    assert [a.status for a in outcome.alerts] == ["unrouted"]  # no channel configured

    again = monitor_job(ann, "watch")  # drift persists: one challenger per window
    assert again.verdict.drifted and "retrain" not in again.verdict.details
    assert any("not retrained again" in note for note in again.notes)

    challenger = retrained["version"]
    assert ann.registry.jobs.stage("watch", "production").version == first  # type: ignore[union-attr]
    with pytest.raises(GateFailed) as refused:
        promote(ann, spec, challenger, "production")
    failed = {r.gate.split()[0] for r in refused.value.results if not r.passed}
    assert failed == {"approvals"}
    approve(dan, spec, challenger)
    moved = promote(ann, spec, challenger, "production")
    gates = {r.gate.split()[0]: r.detail for r in moved.verdict.results}
    assert moved.moved and "version 1" in gates["not_worse"]  # compared with the champion

    code, history = run_json(root, "monitor", "watch", "--history")
    assert code == 0 and [v["drifted"] for v in history] == [True, True, False]


def test_health_stale_and_failing(as_user: object, root: Path) -> None:
    ann, dan = as_user("ann"), as_user("dan")  # type: ignore[operator]
    spec = job_spec(ann.settings, "watch")
    version = build_job(ann, spec).version.version
    assert run_job(ann, spec, JobRunRequest(version=version)).state == "succeeded"
    approve(dan, spec, version)
    promote(ann, spec, version, "production")
    assert run_job(ann, spec, JobRunRequest(stage="production")).state == "succeeded"
    now = dt.datetime.now(dt.UTC)
    code, fresh = run_json(root, "health", "--no-alerts", "--at", now.isoformat())
    assert code == 0 and fresh["healthy"], fresh
    later = (now + dt.timedelta(days=1, hours=2)).isoformat()
    code, stale = run_json(root, "health", "--no-alerts", "--at", later)
    assert code == 1 and [p["kind"] for p in stale["jobs"][0]["problems"]] == ["stale"]

    for _ in range(2):  # a production run that breaks its data check, twice
        broken = run_job(ann, spec, JobRunRequest(stage="production", parameters={
            "profiled": {"bad_ages": api.GivenValue(3, "-p")}}))
        assert broken.state == "failed" and broken.failure is not None
        assert broken.failure.kind == "data_check"
        alerts = after_job_run(ann, broken).alerts
        assert [a.event for a in alerts] == ["run_failed"]
    code, failing = run_json(root, "health", "--json", "--at",
                             dt.datetime.now(dt.UTC).isoformat())
    kinds = [p["kind"] for p in failing["jobs"][0]["problems"]]
    assert code == 1 and kinds == ["failing"], failing
    code, alerts = run_json(root, "alerts", "watch")
    assert [a["event"] for a in alerts][:1] == ["failing"]
    assert {a["status"] for a in alerts} == {"unrouted"}
