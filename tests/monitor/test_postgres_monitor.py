"""Profiles, verdicts and alerts in a PostgreSQL registry (the same code as SQLite)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from nbprod.records import AlertRecord, MonitorVerdict
from nbprod.registry import Registry

from ..conftest import DATA, run_json
from ..integration.test_postgres import pg_url  # noqa: F401 - the fixture

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_profiles_verdicts_and_alerts_on_postgres(tmp_path: Path,
                                                  pg_url: str) -> None:  # noqa: F811
    shutil.copy(DATA.parent / "monitor" / "profiled.ipynb", tmp_path / "profiled.ipynb")
    (tmp_path / "nbprod.toml").write_text('notebook_dir = "."\n')
    env = {"NBPROD_REGISTRY": pg_url}
    code, record = run_json(tmp_path, "run", "profiled.ipynb", "-p", "code_checks", "true",
                            env=env)
    assert code == 3 and record["failure"]["kind"] == "data_check"
    code, shown = run_json(tmp_path, "show", record["run_id"], env=env)
    assert shown["profiles"][0]["name"] == "input" and shown["profiles"][0]["passed"] is False

    registry = Registry.open(pg_url)
    try:
        store = registry.monitor
        verdict = store.add_verdict(MonitorVerdict(
            job="j", stage="production", version=1, job_run_id="jr", reference_job_run_id=None,
            drifted=True, decayed=False, summary="drift in x", details={"drift": []}))
        assert verdict.verdict_id is not None
        assert [v.summary for v in store.verdicts("j", job_run_ids=["jr"])] == ["drift in x"]
        alert = store.add_alert(AlertRecord(key="k", event="drift", title="t", payload={},
                                            status="pending", job="j"))
        assert alert.alert_id is not None
        store.finish_alert(alert.alert_id, "sent", [{"channel": "c", "ok": True}])
        since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        found = store.last_alert("k", ["sent"], since)
        assert found is not None and found.deliveries == [{"channel": "c", "ok": True}]
    finally:
        registry.close()
