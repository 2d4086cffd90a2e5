"""The example's batch-scoring job in production, monitored as README's tour does.

The pipeline is built, tested and promoted to production; the score job (which uses the
pipeline's production model) too. Then production scoring runs: unshifted (no drift, no
alert), shifted (the monitor names exactly the shifted columns; one webhook call and one
e-mail to real servers on 127.0.0.1), monitored again (no second alert), and shifted
elsewhere with the webhook down (the run succeeds; the failed delivery is recorded).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import commit_all, run_cli, run_json
from ..servers import Mailbox, Webhook, smtp_server, webhook_server

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
ALICE, BOB = {"NBPROD_USER": "alice"}, {"NBPROD_USER": "bob"}


@pytest.fixture(scope="module")
def hook() -> Iterator[Webhook]:
    with webhook_server() as server:
        yield server


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory, hook: Webhook, mailbox: Mailbox) -> Path:
    """The example project with alert channels pointing at the test's servers, the pipeline
    and the score job both promoted to production."""
    root = tmp_path_factory.mktemp("monitored")
    # The tests act as alice and bob through NBPROD_USER, as CI service accounts would.
    settings = (ROOT / "pyproject.toml").read_text().replace(
        "[tool.nbprod]\n", '[tool.nbprod]\nidentity = "env"\n', 1)
    settings += f"""
[tool.nbprod.monitor.alerts]
window = "1h"
backoff = 0.05

[[tool.nbprod.monitor.alerts.channels]]
type = "webhook"
url = "{hook.url}"
format = "slack"

[[tool.nbprod.monitor.alerts.channels]]
type = "email"
host = "127.0.0.1"
port = {mailbox.port}
sender = "nbprod@example.com"
to = ["ml-team@example.com"]
"""
    (root / "pyproject.toml").write_text(settings)
    shutil.copytree(ROOT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns("nbprod-local", ".ipynb_checkpoints"))
    commit_all(root)
    for job, approval in (("pipeline", True), ("score", False)):
        code, built = run_json(root, "job", "build", job, env=ALICE)
        assert code == 0, built
        version = str(built["version"])
        if job == "pipeline":  # in a fresh project: score's test waits for the pipeline's
            assert run_cli(root, "lint", "notebooks", env=ALICE).returncode == 0
            proc = run_cli(root, "test", "notebooks", env=ALICE)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        code, ran = run_json(root, "job", "run", job, "--version", version, env=ALICE)
        assert code == 0, ran
        assert run_json(root, "promote", job, version, "--to", "staging", env=ALICE)[0] == 0
        if approval:
            assert run_json(root, "approve", job, version, env=BOB)[0] == 0
        code, moved = run_json(root, "promote", job, version, "--to", "production", env=ALICE)
        assert code == 0 and moved["moved"], moved
    return root


def _score(root: Path, *params: str) -> dict[str, object]:
    args = [a for p in params for a in ("-p", *p.split("=", 1))]
    code, job_run = run_json(root, "job", "run", "score", "--stage", "production", *args,
                             env=ALICE)
    assert code == 0 and job_run["state"] == "succeeded", job_run
    return dict(job_run)


def test_monitoring_production_scoring(example: Path, hook: Webhook, mailbox: Mailbox) -> None:
    calm = _score(example)
    monitor = calm["followup"]["monitor"]  # type: ignore[index]
    assert monitor["drifted"] is False and monitor["decayed"] is False, monitor
    assert hook.bodies == [] and mailbox.messages == []

    shifted = _score(example, "shift=1.5")
    verdict = shifted["followup"]["monitor"]  # type: ignore[index]
    assert verdict["drifted"] is True
    (report,) = verdict["details"]["drift"]
    assert (report["current"], report["reference"]) == ("scoring_input", "training")
    assert sorted(report["drifted_columns"]) == ["mean_radius", "mean_texture"]
    assert len(hook.bodies) == 1 and len(mailbox.messages) == 1
    body = hook.bodies[0]
    assert "mean_radius" in body["text"] and "score version 1 (production)" in body["text"]
    # what differs from the last good run
    assert "score parameters shift: <absent> → 1.5" in body["text"]
    assert body["blocks"][0]["type"] == "header"
    assert "mean_texture" in mailbox.messages[0].get_payload()  # type: ignore[operator]

    code, again = run_json(example, "monitor", "score")
    assert code == 1 and again["drifted"] is True
    assert [a["status"] for a in again["alerts"]] == ["suppressed"]
    assert len(hook.bodies) == 1 and len(mailbox.messages) == 1

    code, shown = run_json(example, "show", _step_run(example, verdict["job_run_id"]))
    assert code == 0
    assert [p["name"] for p in shown["profiles"]] == ["scoring_input"]
    assert shown["profiles"][0]["passed"] is True
    assert any(v["drifted"] for v in shown["monitor"])

    hook.stop()
    elsewhere = _score(example, "shift=2", "shift_columns=mean_area")
    assert elsewhere["followup"]["monitor"]["details"]["drift"][0][  # type: ignore[index]
        "drifted_columns"] == ["mean_area"]
    code, failed = run_json(example, "alerts", "--status", "failed")
    assert code == 0 and len(failed) == 1
    errors = {d["channel"].split()[0]: d for d in failed[0]["deliveries"]}
    assert errors["webhook"]["ok"] is False and "cannot reach" in errors["webhook"]["error"]
    assert errors["webhook"]["attempts"] == 3 and errors["email"]["ok"] is True
    assert len(mailbox.messages) == 2

    code, history = run_json(example, "monitor", "score", "--history")
    assert code == 0 and [v["drifted"] for v in history] == [True, True, True, False]


def _step_run(root: Path, job_run_id: str) -> str:
    code, runs = run_json(root, "job", "runs", "score")
    assert code == 0
    job_run = next(r for r in runs if r["job_run_id"] == job_run_id)
    return str(job_run["steps"][0]["run_id"])


def test_health_reports_a_stale_job_and_exits_nonzero(example: Path) -> None:
    code, now = run_json(example, "health", "--no-alerts")
    assert code == 0 and now["healthy"] is True, now
    code, later = run_json(example, "health", "--no-alerts", "--at", "2099-01-01T12:00:00Z")
    assert code == 1 and later["healthy"] is False
    stale = {h["job"]: [p["kind"] for p in h["problems"]] for h in later["jobs"]}
    assert stale == {"pipeline": ["stale"], "score": ["stale"]}
