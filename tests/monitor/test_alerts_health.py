"""Alert delivery (real servers on 127.0.0.1), monitor settings, and health from run facts."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nbprod.errors import SettingsError
from nbprod.monitor.alerts import Alert, deliver, webhook_body
from nbprod.monitor.health import HealthLimits, RunFacts, assess
from nbprod.monitor.settings import AlertSettings, Channel, duration, parse_monitor

from ..conftest import run_cli, run_json
from ..servers import free_port, smtp_server, webhook_server

ALERT = Alert(event="drift", key="k", title="score version 1 (production): data drift",
              lines=("scoring_input: mean_radius (ks 0.41)",), fields={"job": "score"},
              link="https://nbprod.example.com/nbprod/jobs/score")


def test_webhook_and_email_are_delivered() -> None:
    with webhook_server() as hook, smtp_server() as box:
        settings = AlertSettings(channels=(
            Channel("webhook", {"type": "webhook", "url": hook.url}),
            Channel("webhook", {"type": "webhook", "url": hook.url, "format": "slack"}),
            Channel("email", {"type": "email", "host": "127.0.0.1", "port": box.port,
                              "sender": "nbprod@example.com", "to": ["a@example.com"]})))
        results = deliver(ALERT, settings, {})
    assert [r.ok for r in results] == [True, True, True]
    plain, slack = hook.bodies
    assert plain["text"].startswith(ALERT.title) and plain["fields"] == {"job": "score"}
    assert slack["blocks"][0]["text"]["text"] == ALERT.title and "text" in slack
    (mail,) = box.messages
    assert mail["Subject"] == f"[nbprod] {ALERT.title}" and mail["To"] == "a@example.com"
    assert "mean_radius" in str(mail.get_payload())


def test_a_down_webhook_is_retried_with_backoff_and_reported() -> None:
    waits: list[float] = []
    settings = AlertSettings(retries=3, backoff=0.5, timeout=1.0, channels=(
        Channel("webhook", {"type": "webhook", "url": f"http://127.0.0.1:{free_port()}/x"}),))
    (result,) = deliver(ALERT, settings, {}, sleep=waits.append)
    assert not result.ok and result.attempts == 3 and waits == [0.5, 1.0]
    assert result.error is not None and "cannot reach the webhook" in result.error


def test_a_webhook_url_from_the_environment_is_used_only_where_it_is_set() -> None:
    channel = Channel("webhook", {"type": "webhook", "url_env": "HOOK"})
    settings = AlertSettings(channels=(channel,))
    assert deliver(ALERT, settings, {}) == []  # not set here: no channel, nothing sent
    with webhook_server() as hook:
        (result,) = deliver(ALERT, settings, {"HOOK": hook.url})
    assert result.ok and result.channel == "webhook $HOOK" and len(hook.bodies) == 1
    (bad,) = deliver(ALERT, settings, {"HOOK": "file:///etc/passwd"})
    assert not bad.ok and bad.attempts == 1 and "does not hold an http(s) URL" in str(bad.error)


def test_missing_smtp_credentials_fail_at_once_without_retries() -> None:
    settings = AlertSettings(channels=(Channel("email", {
        "type": "email", "host": "127.0.0.1", "port": free_port(), "sender": "n@example.com",
        "to": ["a@example.com"], "username_env": "SMTP_USER", "password_env": "SMTP_PW"}),))
    (result,) = deliver(ALERT, settings, {"SMTP_USER": "nbprod"})
    assert not result.ok and result.attempts == 1
    assert result.error == "environment variable SMTP_PW (SMTP credentials) is not set"


def test_slack_body_is_bounded() -> None:
    long = Alert(event="drift", key="k", title="t" * 500, lines=tuple("x" * 100
                                                                      for _ in range(100)))
    body = webhook_body(long, "slack")
    assert len(body["text"]) <= 3000 and len(body["blocks"][0]["text"]["text"]) <= 150


@pytest.mark.parametrize(("table", "message"), [
    ({"alpah": 0.1}, "unknown setting 'alpah'; did you mean 'alpha'?"),
    ({"alpha": 2}, "alpha must be between 0 and 1"),
    ({"grace": "soon"}, "grace must be a duration"),
    ({"jobs": {"score": {"on_drift": "page"}}}, "on_drift must be"),
    ({"alerts": {"channels": [{"type": "pager"}]}}, "type = \"webhook\" or \"email\""),
    ({"alerts": {"channels": [{"type": "webhook", "url": "ftp://x"}]}}, "http\\(s\\) URL"),
    ({"alerts": {"channels": [{"type": "email", "host": "h"}]}}, "needs host, sender"),
])
def test_wrong_monitor_settings_say_what_and_where(table: dict[str, object],
                                                   message: str) -> None:
    with pytest.raises(SettingsError) as error:
        parse_monitor(table)
    assert "[tool.nbprod.monitor]" in error.value.one_line()
    assert re.search(message, error.value.one_line())


def test_durations() -> None:
    assert [duration(v, "x") for v in (90, "90s", "30m", "6h", "2d", "1.5h")] == [
        90, 90, 1800, 21600, 172800, 5400]


UTC = dt.UTC


def _run(day: int, hour: int, state: str = "succeeded", minutes: float = 10) -> RunFacts:
    start = dt.datetime(2026, 12, day, hour, 0, 5, tzinfo=UTC)
    return RunFacts(f"r{day}{hour}", state, start, start + dt.timedelta(minutes=minutes))


def test_stale_failing_and_slow() -> None:
    limits = HealthLimits(grace=3600, failing_after=3, slow_factor=3)
    runs = [_run(2, 6), _run(1, 6)]
    on_time = assess("j", "production", 1, "0 6 * * *", runs,
                     dt.datetime(2026, 12, 3, 6, 30, tzinfo=UTC), limits)
    assert on_time.healthy  # today's run is not due before 07:00
    late = assess("j", "production", 1, "0 6 * * *", runs,
                  dt.datetime(2026, 12, 3, 7, 1, tzinfo=UTC), limits)
    assert [p.kind for p in late.problems] == ["stale"]
    fresh = assess("j", "production", 1, "0 6 * * *", [],
                   dt.datetime(2026, 12, 3, 7, 1, tzinfo=UTC), limits,
                   stage_moved_at=dt.datetime(2026, 12, 3, 6, 30, tzinfo=UTC))
    assert fresh.healthy  # promoted after the last due time: nothing was due yet
    failing = [_run(3, h, "failed") for h in (9, 8, 7)] + [_run(3, 6)]
    found = assess("j", "production", 1, "0 * * * *", failing,
                   dt.datetime(2026, 12, 3, 9, 30, tzinfo=UTC), limits)
    assert {p.kind for p in found.problems} == {"failing", "stale"}
    history = [_run(3, 9, minutes=45)] + [_run(d, 9) for d in (2, 1)] + [_run(1, 8)]
    slow = assess("j", "production", 1, "0 9 * * *", history,
                  dt.datetime(2026, 12, 3, 10, 0, tzinfo=UTC), limits)
    assert [p.kind for p in slow.problems] == ["slow"]
    assert "45 min" in slow.problems[0].detail


def test_drift_of_two_csv_files_from_the_command_line(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    base = pd.DataFrame({"x": rng.normal(0, 1, 5000), "city": rng.choice(["a", "b"], 5000)})
    base.to_csv(tmp_path / "ref.csv", index=False)
    base.assign(x=base["x"] + 1.0).to_csv(tmp_path / "cur.csv", index=False)
    code, report = run_json(tmp_path, "drift", "ref.csv", "cur.csv", "--html", "out.html")
    assert code == 1 and report["drifted_columns"] == ["x"]
    assert {c["column"]: c["statistic"] for c in report["columns"]} == {
        "x": "wasserstein", "city": "jensenshannon"}
    page = (tmp_path / "out.html").read_text()
    assert "<svg" in page and len(page) < 50_000
    code, same = run_json(tmp_path, "drift", "ref.csv", "ref.csv")
    assert code == 0 and same["drifted"] is False
    proc = run_cli(tmp_path, "drift", "ref.csv", "nope.csv")
    assert proc.returncode == 2 and "no file nope.csv" in proc.stderr
    (tmp_path / "data.txt").write_text("x\n1\n")
    proc = run_cli(tmp_path, "drift", "ref.csv", "data.txt")
    assert proc.returncode == 2 and "cannot read '.txt' files" in proc.stderr
