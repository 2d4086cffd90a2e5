"""The dashboard in a real browser (Debian's chromium, driven by playwright).

A server for a copy of the example pipeline (prepare -> train -> evaluate) plus a failing, a
slow and an XSS notebook. Runs and job runs are made through the REST API first, as alice;
then each test opens pages as a user would and saves a screenshot of each (NBPROD_SCREENSHOTS,
else build/screenshots; .ci/run prints where).
"""

from __future__ import annotations

import html
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .conftest import (
    DATA,
    ROOT,
    Server,
    screenshot_dir,
    start_server,
    user_tokens,
    write_settings,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PIPELINE = """notebook_dir = "notebooks"
heartbeat_interval = 1

[notebooks.prepare]
path = "notebooks/prepare.ipynb"
[notebooks.train]
path = "notebooks/train.ipynb"
[notebooks.evaluate]
path = "notebooks/evaluate.ipynb"

[jobs.pipeline]
steps = ["prepare", "train", "evaluate"]
parameters = { train = { n_estimators = 100 } }
test_parameters = { train = { n_estimators = 10 } }
[jobs.pipeline.promotion.staging]
gates = ["succeeded_run"]
[jobs.pipeline.promotion.production]
gates = ["succeeded_run", "previous_stage"]
approvals = 1
"""


# A parameter value the run page, the runs list and compare show (on nbprod's own origin).
XSS_LABEL = "<img src=x onerror=\"window.__xss='parameter'; fetch('/nbprod/xss')\">"


class Canary:
    """An HTTP server on 127.0.0.1 that records every request a payload would make."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(b"hit")

            def log_message(self, *args: Any) -> None:
                pass

        self.hits = hits
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    server = Canary()
    try:
        yield server
    finally:
        server.close()


def _run(server: Server, notebook: str, parameters: dict[str, Any] | None = None) -> str:
    task = server.post("/nbprod/api/runs", {"notebook": notebook,
                                            "parameters": parameters or {}}, user="alice")
    assert task.status_code == 202, task.text
    return str(server.wait_task(task.json())["last"]["run_id"])


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory, canary: Canary,
              browser: Any) -> Iterator[dict[str, Any]]:
    """The server, and the runs the tests look at (made through the API as alice)."""
    tmp = tmp_path_factory.mktemp("dashboard")
    root = tmp / "proj"
    shutil.copytree(ROOT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns("nbprod-local", ".ipynb_checkpoints"))
    (root / "data").mkdir()
    shutil.copy(DATA / "notebooks" / "raises.ipynb", root / "notebooks")
    for name in ("slow", "xss"):
        shutil.copy(DATA / "server" / f"{name}.ipynb", root / "notebooks")
    tokens = user_tokens()
    write_settings(root, PIPELINE, tokens)
    server = start_server(root, tmp, tokens)
    try:
        built = server.post("/nbprod/api/jobs/pipeline/versions", {}, user="alice")
        assert built.status_code == 201, built.text
        task = server.post("/nbprod/api/jobs/pipeline/runs", {"version": 1, "test": True},
                           user="alice")
        job_run = server.wait_task(task.json())["last"]
        assert job_run["state"] == "succeeded", job_run
        steps = server.get(f"/nbprod/api/job-runs/{job_run['job_run_id']}",
                           user="carol").json()["steps"]
        runs = {
            "train_job": next(s["run_id"] for s in steps if s["step"] == "train"),
            "train_20": _run(server, "train", {"n_estimators": 20, "max_depth": 3}),
            "failed": _run(server, "raises"),
            "xss": _run(server, "xss", {"canary": canary.url, "label": XSS_LABEL}),
        }
        yield {"server": server, "runs": runs, "browser": browser, "canary": canary}
    finally:
        server.stop()


def _login(browser: Any, server: Server, user: str) -> tuple[Any, Any]:
    """A browser context and page logged in as ``user`` through the login form."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(server.url("/nbprod/"))
    assert "/login" in page.url
    page.fill("#password_input", server.tokens[user])
    page.click("#login_submit")
    page.wait_for_url(re.compile(r".*/nbprod/$"))
    return context, page


def _shot(page: Any, name: str) -> Path:
    path = screenshot_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def alice(dashboard: dict[str, Any]) -> Iterator[Any]:
    context, page = _login(dashboard["browser"], dashboard["server"], "alice")
    try:
        yield page
    finally:
        context.close()


def test_the_runs_page_lists_the_pipeline_s_runs(dashboard: dict[str, Any], alice: Any) -> None:
    rows = alice.locator("#runs tbody tr")
    notebooks = [rows.nth(i).locator("td").nth(3).inner_text() for i in range(rows.count())]
    for step in ("prepare", "train", "evaluate"):
        assert f"notebooks/{step}.ipynb" in notebooks
    assert "notebooks/raises.ipynb" in notebooks
    assert alice.locator("#runs .state-failed").count() >= 1
    _shot(alice, "01-runs")
    alice.select_option("#run-filters select[name=notebook]", "notebooks/train.ipynb")
    alice.wait_for_url(re.compile(r".*notebook=notebooks%2Ftrain.ipynb.*"))
    trains = alice.locator("#runs tbody tr")
    assert trains.count() == 2
    assert {trains.nth(i).locator("td").nth(3).inner_text() for i in range(2)} == {
        "notebooks/train.ipynb"}
    _shot(alice, "02-runs-filtered")


def test_a_run_page_shows_its_header_card_and_rendered_notebook(
        dashboard: dict[str, Any], alice: Any) -> None:
    run_id = dashboard["runs"]["train_20"]
    alice.goto(dashboard["server"].url(f"/nbprod/runs/{run_id}"))
    card = alice.locator("#run-card")
    assert run_id in card.inner_text()
    assert "succeeded" in alice.locator("#run-state").inner_text()
    parameters = alice.locator("#parameters").inner_text()
    assert "n_estimators" in parameters and "20" in parameters
    assert "accuracy" in alice.locator("#values").inner_text()
    assert "files/model.joblib" in alice.locator("#artifacts").inner_text()
    assert "reads prepare" in alice.locator("#lineage").inner_text()
    report = alice.frame_locator("#report")
    assert run_id in report.locator("#nbprod-run").inner_text()
    assert "n_estimators" in report.locator("#nbprod-run").inner_text()
    assert report.locator("text=RandomForestClassifier").count() >= 1
    assert alice.locator("#report").get_attribute("sandbox") == ""
    _shot(alice, "03-run")


def test_a_failed_run_shows_its_failing_cell_and_exception(
        dashboard: dict[str, Any], alice: Any) -> None:
    alice.goto(dashboard["server"].url(f"/nbprod/runs/{dashboard['runs']['failed']}"))
    failure = alice.locator("#failure").inner_text()
    assert "Cell error" in failure and "ValueError: bad input 1" in failure
    assert alice.locator("#failing-source").inner_text() == "raise ValueError(f'bad input {x}')"
    assert "ValueError" in alice.locator("#traceback").inner_text()
    assert "cell_error" in alice.locator("#failure-kind").inner_text()
    _shot(alice, "04-run-failed")


def test_compare_shows_only_what_differs_when_asked(dashboard: dict[str, Any],
                                                   alice: Any) -> None:
    server = dashboard["server"]
    alice.goto(server.url("/nbprod/runs?notebook=notebooks/train.ipynb"))
    button = alice.locator("[data-compare]")
    assert button.is_disabled()
    for run_id in (dashboard["runs"]["train_job"], dashboard["runs"]["train_20"]):
        alice.check(f"input[name=run][value='{run_id}']")
    assert button.is_enabled()
    button.click()
    alice.wait_for_url(re.compile(r".*/nbprod/compare\?.*"))
    everything = alice.locator("#comparison tr[data-field]").count()
    assert alice.locator("tr[data-field='run.kernel']").count() == 1
    _shot(alice, "05-compare")
    alice.click("#only-differences")
    rows = alice.locator("#comparison tr[data-field]")
    fields = {rows.nth(i).get_attribute("data-field") for i in range(rows.count())}
    assert {"parameters.n_estimators", "parameters.max_depth"} <= fields
    assert "run.kernel" not in fields and "run.notebook" not in fields
    assert 0 < rows.count() < everything
    assert alice.locator("#comparison tr.differs").count() == rows.count()
    assert alice.locator("svg.chart circle").count() >= 2
    assert alice.locator("svg.chart circle[stroke]").count() == 2  # the compared runs
    _shot(alice, "06-compare-differences")


def test_a_job_page_promotes_for_a_user_with_the_role(dashboard: dict[str, Any],
                                                      alice: Any) -> None:
    server = dashboard["server"]
    alice.goto(server.url("/nbprod/jobs/pipeline"))
    cell = alice.locator("tr[data-version='1'] td[data-stage='staging']")
    assert "gates pass" in cell.inner_text()
    _shot(alice, "07-job")
    cell.locator("summary", has_text="Promote").click()
    cell.locator("input[name=reason]").fill("the test run passed")
    cell.locator("button[type=submit]").click()
    assert alice.locator("#flash").inner_text() == \
        "staging of pipeline now points at version 1"
    assert "v1" in alice.locator(".stage-card[data-stage='staging']").inner_text()
    _shot(alice, "08-job-promoted")
    audit = server.get("/nbprod/api/audit?job=pipeline", user="carol").json()
    assert audit[0]["user"] == "alice" and audit[0]["action"] == "promote"
    assert audit[0]["reason"] == "the test run passed"


def test_a_viewer_sees_no_buttons_and_gets_403(dashboard: dict[str, Any]) -> None:
    server = dashboard["server"]
    context, page = _login(dashboard["browser"], server, "carol")
    try:
        page.goto(server.url("/nbprod/jobs/pipeline"))
        assert page.locator("#versions").count() == 1
        for selector in ("#build-form", "#run-job-form", "summary:has-text('Promote')",
                         "summary:has-text('Approve')", "summary:has-text('Roll back')"):
            assert page.locator(selector).count() == 0, selector
        assert "viewer" in page.locator(".who").inner_text()
        _shot(page, "09-job-viewer")
        refused = server.post("/nbprod/api/jobs/pipeline/promotions",
                              {"version": 1, "stage": "dev"}, user="carol")
        assert refused.status_code == 403
        page.goto(server.url("/nbprod/notebooks/train"))
        assert page.locator("#run-button").count() == 0
    finally:
        context.close()


def test_a_builder_s_own_approval_is_refused(dashboard: dict[str, Any], alice: Any) -> None:
    alice.goto(dashboard["server"].url("/nbprod/jobs/pipeline"))
    cell = alice.locator("tr[data-version='1'] td[data-stage='production']")
    cell.locator("summary", has_text="Approve").click()
    cell.locator("input[name=comment]").fill("my own build")
    cell.locator("button[type=submit]", has_text="Approve").click()
    flash = alice.locator("#flash")
    assert "error" in (flash.get_attribute("class") or "")
    assert flash.inner_text().startswith("alice built version 1 of pipeline and cannot "
                                         "approve it")
    _shot(alice, "10-own-approval-refused")


def test_a_running_run_shows_its_progress_then_its_final_state(
        dashboard: dict[str, Any], alice: Any) -> None:
    alice.goto(dashboard["server"].url("/nbprod/notebooks/slow"))
    alice.fill("input[name='p:delay']", "1.5")
    alice.fill("input[name='p:steps']", "6")
    _shot(alice, "11-notebook-form")
    alice.click("#run-button")
    alice.wait_for_url(re.compile(r".*/nbprod/runs/\d{8}-.*"))
    where = alice.locator("#progress [data-field=where]")
    alice.wait_for_function(
        "() => /cell [1-9][0-9]* of 11/.test(document.querySelector("
        "'#progress [data-field=where]').textContent)", timeout=30000)
    first = where.inner_text()
    elapsed = alice.locator("#progress [data-field=elapsed]").inner_text()
    alice.wait_for_timeout(2000)
    assert (where.inner_text(), alice.locator("#progress [data-field=elapsed]").inner_text()) \
        != (first, elapsed)  # it moved within 2 seconds
    assert "running" in alice.locator("#run-state").inner_text()
    _shot(alice, "12-run-live")
    alice.wait_for_selector("#run-state .state-succeeded", timeout=90000)
    assert alice.locator("#progress").count() == 0
    assert "steps_done" in alice.locator("#values").inner_text()
    _shot(alice, "13-run-finished")


def test_a_running_job_run_shows_its_step_then_its_final_state(
        dashboard: dict[str, Any], alice: Any) -> None:
    alice.goto(dashboard["server"].url("/nbprod/jobs/pipeline"))
    alice.select_option("#run-job-form select", "version:1")
    alice.check("#run-job-form input[name=test]")
    alice.click("#run-job-form button[type=submit]")
    alice.wait_for_url(re.compile(r".*/nbprod/job-runs/\d{8}-.*"))
    assert alice.locator("#flash").inner_text() == "started job pipeline"
    alice.wait_for_function(
        "() => /step [1-3] of 3 \\((prepare|train|evaluate)\\) · cell [0-9]+ of [0-9]+/.test("
        "document.querySelector('#progress [data-field=where]').textContent)", timeout=60000)
    alice.wait_for_selector("#steps tr .state-running", timeout=30000)  # the step now running
    _shot(alice, "15-job-run-live")
    alice.wait_for_selector("#run-state .state-succeeded", timeout=180000)
    steps = alice.locator("#steps tbody tr")
    assert steps.count() == 3
    assert alice.locator("#steps .state-succeeded").count() == 3
    _shot(alice, "16-job-run-finished")


def test_xss_payloads_in_a_run_execute_nowhere(dashboard: dict[str, Any]) -> None:
    server, canary = dashboard["server"], dashboard["canary"]
    context, page = _login(dashboard["browser"], server, "carol")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        # The detector works: the same payload, unsanitized, in a plain page sets the flag
        # and reaches the canary.
        probe = context.new_page()
        probe.set_content(f'<img src="x" onerror="window.__xss=\'probe\'; '
                          f'fetch(\'{html.escape(canary.url)}probe\')">')
        probe.wait_for_function("() => window.__xss === 'probe'", timeout=5000)
        probe.wait_for_timeout(500)
        assert "/probe" in canary.hits
        probe.close()
        canary.hits.clear()

        run_id = dashboard["runs"]["xss"]
        for path in (f"/nbprod/runs/{run_id}", "/nbprod/runs", f"/nbprod/compare?run={run_id}"
                     f"&run={dashboard['runs']['failed']}", "/nbprod/notebooks/xss"):
            page.goto(server.url(path))
            page.wait_for_load_state("load")
            page.wait_for_timeout(1500)
            assert page.evaluate("() => window.__xss") is None, path
        page.goto(server.url(f"/nbprod/runs/{run_id}"))
        report = page.frame_locator("#report")
        assert report.locator("#jslink").count() == 1  # the outputs are there, inert
        assert report.locator("div:text-is('styled')").count() == 1
        report.locator("#jslink").click(timeout=5000)
        page.wait_for_timeout(1500)
        assert page.evaluate("() => window.__xss") is None
        assert "<img src=x onerror" in page.locator("#parameters").inner_text()
        _shot(page, "14-xss-run")
        assert canary.hits == [], canary.hits
        assert not [u for u in requested if u.startswith(canary.url) or
                    u.endswith("/nbprod/xss")], requested
    finally:
        context.close()
