"""nbprod's JupyterLab extension in a real ``jupyter lab`` and chromium: the sidebar shows the
example notebook's contract, a mistyped value is refused inline with the CLI's message and
starts nothing, a good run progresses and ends with a notification, a lint finding focuses its
cell, and the panel widget runs in the browser. Screenshots go to the screenshots folder.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from ..conftest import run_cli
from .conftest import CURRENT, LINTED_CELL, Lab, open_notebook, shot, shot_path

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TRAIN = "notebooks/train.ipynb"


def test_the_extension_is_installed_enabled_and_ok(lab: Lab) -> None:
    import subprocess
    import sys

    listed = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"],
                            capture_output=True, text=True, check=False, timeout=120)
    text = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)
    assert re.search(r"nbprod-lab v\S+ enabled OK \(python, nbprod\)", text), text


def test_the_sidebar_lists_the_contract_runs_lint_test_and_jobs(lab: Lab, page: Any) -> None:
    open_notebook(page, lab, TRAIN)
    names = page.locator(".nbprod-contract .nbprod-param-name").all_inner_texts()
    assert names == ["n_estimators", "max_depth", "test_size", "seed"]
    types = page.locator(".nbprod-contract .nbprod-param-type").all_inner_texts()
    assert types == ["int", "int | None", "float", "int"]
    assert "trees in the forest" in page.locator(".nbprod-contract").inner_text()
    finding = page.locator(f".nbprod-finding[data-cell='{LINTED_CELL}']")
    assert "NBP401" in finding.inner_text()
    test = page.locator(".nbprod-section-test").inner_text()
    assert "✓ passed" in test and "this version of the notebook" in test, test
    jobs = page.locator(".nbprod-section-jobs").inner_text()
    assert "pipeline" in jobs and "step train" in jobs
    assert "staging" in jobs and "production" in jobs
    shot(page, "sidebar")


def test_a_mistyped_value_is_refused_inline_and_starts_nothing(lab: Lab, page: Any) -> None:
    open_notebook(page, lab, TRAIN)
    before = len(lab.runs(TRAIN))
    page.click(".nbprod-run-button")
    dialog = page.locator(".jp-Dialog .nbprod-run-form")
    dialog.wait_for()
    page.fill(".nbprod-run-form input[name='n_estimators']", "fifty")
    page.click(".jp-Dialog .jp-mod-accept")
    error = page.locator(".nbprod-field-error[data-parameter='n_estimators']")
    error.wait_for(state="visible")
    inline = error.inner_text()
    assert page.locator(".jp-Dialog").is_visible()  # still open: nothing started
    shot(page, "dialog-inline-error")
    assert len(lab.runs(TRAIN)) == before
    assert not [t for t in lab.api("/nbprod/api/tasks").json() if t["target"] == TRAIN]
    page.click(".jp-Dialog .jp-mod-reject")
    # The CLI's words for the same value (it records the refused run as invalid_input).
    cli = run_cli(lab.root, "run", "train", "-p", "n_estimators", "fifty")
    assert cli.returncode == 2
    said = re.sub(r"^nbprod: error: run \S+ failed \(invalid_input\): ", "", cli.stderr.strip())
    assert inline == said.replace("(from -p)", "(from the Run dialog)")


RECORD_PROGRESS = """() => {
    window.nbprodSteps = [];
    new MutationObserver(() => {
        for (const node of document.querySelectorAll('.nbprod-task-step')) {
            window.nbprodSteps.push(node.textContent);
        }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""


def progress_seen(page: Any) -> set[str]:
    """Every progress line the sidebar showed since RECORD_PROGRESS ran."""
    return set(page.evaluate("() => window.nbprodSteps"))


def test_a_good_run_progresses_ends_succeeded_and_notifies(lab: Lab, page: Any) -> None:
    open_notebook(page, lab, TRAIN)
    before = {r["run_id"] for r in lab.runs(TRAIN)}
    page.evaluate(RECORD_PROGRESS)
    page.click(".nbprod-run-button")
    page.fill(".nbprod-run-form input[name='n_estimators']", "12")
    page.fill(".nbprod-run-form input[name='test_size']", "0.25")
    page.click(".jp-Dialog .jp-mod-accept")
    page.locator(".jp-Dialog").wait_for(state="detached")
    toast = page.locator(".Toastify__toast:has-text('succeeded')")
    toast.wait_for(timeout=240_000)
    steps = progress_seen(page)
    assert any(re.search(r"cell \d+ of \d+", s) for s in steps), steps
    assert "accuracy=" in toast.inner_text()
    page.wait_for_timeout(1000)  # the toast slides in
    shot(page, "notification")
    new = [r for r in lab.runs(TRAIN) if r["run_id"] not in before]
    assert len(new) == 1 and new[0]["state"] == "succeeded", new
    assert new[0]["parameters"] == {"n_estimators": 12, "test_size": 0.25}
    row = page.locator(f".nbprod-run[data-run='{new[0]['run_id']}']")
    row.wait_for()
    assert "✓" in row.inner_text()
    shot(page, "finished-run")


def test_a_failed_run_notifies_with_its_cell_and_goes_there(lab: Lab, page: Any) -> None:
    open_notebook(page, lab, TRAIN)
    page.click(".nbprod-run-button")
    page.fill(".nbprod-run-form input[name='max_depth']", "0")  # fits the type, not the assert
    page.click(".jp-Dialog .jp-mod-accept")
    toast = page.locator(".Toastify__toast:has-text('failed')")
    toast.wait_for(timeout=240_000)
    assert "Run of notebooks/train.ipynb failed: cell 2: AssertionError max_depth must be " \
           "None or >= 1, got 0" in toast.inner_text()
    page.wait_for_timeout(1000)  # the toast slides in
    shot(page, "failed-run-notification")
    toast.locator("button:has-text('Go to cell')").click()
    page.wait_for_function("""() => {
        const cells = [...document.querySelectorAll(
            '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')];
        return cells.findIndex(c => c.classList.contains('jp-mod-active')) === 2;
    }""")
    failed = lab.runs(TRAIN)[0]
    assert failed["state"] == "failed" and failed["failure"]["kind"] == "cell_error"


def notified(page: Any, text: str, timeout_s: float = 240) -> set[str]:
    """Wait for the toast ``text``; the progress lines shown until then."""
    page.locator(f".Toastify__toast:has-text('{text}')").wait_for(timeout=timeout_s * 1000)
    return progress_seen(page)


def test_a_sweep_and_a_job_run_show_their_progress_and_notify(lab: Lab, page: Any) -> None:
    open_notebook(page, lab, TRAIN)
    page.evaluate(RECORD_PROGRESS)
    page.click(".nbprod-sweep-button")
    page.fill(".nbprod-sweep-form input[name='n_estimators']", "5, 8")
    page.fill(".nbprod-sweep-form input[name='seed']", "1, x")
    page.click(".jp-Dialog .jp-mod-accept")
    error = page.locator(".nbprod-field-error[data-parameter='seed']")
    error.wait_for(state="visible")
    assert error.inner_text() == \
        "parameter 'seed' expects int, got 'x' (from the Sweep dialog seed)"
    page.fill(".nbprod-sweep-form input[name='seed']", "")
    page.click(".jp-Dialog .jp-mod-accept")
    page.locator(".jp-Dialog").wait_for(state="detached")
    seen = notified(page, "Sweep of notebooks/train.ipynb succeeded")
    assert any(re.search(r"\d of 2 points done", s) for s in seen), seen
    swept = [r for r in lab.runs(TRAIN) if r["sweep_id"]]
    assert sorted(r["parameters"]["n_estimators"] for r in swept[:2]) == [5, 8]

    page.evaluate(RECORD_PROGRESS)
    page.locator(".nbprod-job[data-job='pipeline'] .nbprod-run-job").click()
    page.locator(".nbprod-task").wait_for()  # shown at once; the job takes a few seconds
    page.locator(".nbprod-task-step", has_text="step").first.wait_for()
    shot(page, "job-run-in-progress")  # while it runs: the job is done within seconds
    seen = notified(page, "Job run of pipeline succeeded")
    for number, name in enumerate(("prepare", "train", "evaluate"), start=1):
        assert any(f"step {number} of 3 ({name})" in s for s in seen), seen
    assert any(re.search(r"step \d of 3 \(\w+\) · cell \d+ of \d+", s) for s in seen), seen
    job_runs = lab.api("/nbprod/api/jobs/pipeline/runs").json()
    assert job_runs[0]["state"] == "succeeded" and len(job_runs[0]["steps"]) == 3


def test_clicking_a_lint_finding_focuses_its_cell(lab: Lab, page: Any) -> None:
    open_notebook(page, lab, TRAIN)
    page.locator(f".nbprod-finding[data-cell='{LINTED_CELL}']").click()
    active = page.evaluate("""() => {
        const cells = [...document.querySelectorAll(
            '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')];
        return cells.findIndex(c => c.classList.contains('jp-mod-active'));
    }""")
    assert active == LINTED_CELL
    text = page.locator(f"{CURRENT} .jp-Cell.jp-mod-active").inner_text()
    assert "np.random.rand()" in text
    # An edit not saved yet: the run dialog says the run uses the saved file.
    page.keyboard.press("Enter")
    page.keyboard.type("# edited\n")
    page.wait_for_selector(".jp-mod-current.jp-mod-dirty")
    page.click(".nbprod-run-button")
    assert "unsaved changes" in page.locator(".jp-Dialog .nbprod-note").inner_text()
    page.click(".jp-Dialog .jp-mod-reject")


def test_the_panel_widget_runs_in_the_browser(lab: Lab, page: Any) -> None:
    notebook = "notebooks/panel.ipynb"
    open_notebook(page, lab, notebook)
    before = len(lab.runs(notebook))
    page.locator(f"{CURRENT} .jp-Cell").last.click()
    page.keyboard.press("Shift+Enter")
    page.locator(".nbprod-run").wait_for(timeout=90_000)
    steps = page.locator(".nbprod-input-steps input")
    steps.fill("5")
    steps.press("Enter")
    page.locator("button.nbprod-run").click()
    page.wait_for_selector(".nbprod-status :text('succeeded in')", timeout=120_000)
    shot(page, "panel-widget")
    runs = lab.runs(notebook)
    assert len(runs) == before + 1
    assert runs[0]["parameters"]["steps"] == 5 and runs[0]["values"]["score"] == 2.5

    output = page.locator(".jp-OutputArea-output:has(.nbprod-run)")
    output.locator(".lm-TabBar-tab:has-text('Sweep grid')").first.click()
    output.locator(".nbprod-grid-steps input").fill("1, 2, 4, 8")
    page.locator("button.nbprod-sweep").click()
    # The sweep's own line: the single run's "✓ run …4 succeeded in" (a run id ending in 4)
    # also holds "4 succeeded", and made this wait end before the sweep did.
    page.locator(".nbprod-status", has_text=re.compile(r"sweep \S+: 4 succeeded$")).wait_for(
        timeout=180_000)
    runs = lab.runs(notebook)
    shown = [{k: r.get(k) for k in ("run_id", "state", "failure", "parameters", "values",
                                    "sweep_id")} for r in runs]
    assert len(runs) == before + 5, shown  # the single run and the sweep's four
    swept = runs[:4]
    assert len({r["sweep_id"] for r in swept}) == 1 and swept[0]["sweep_id"], shown
    assert all(r["state"] == "succeeded" and "score" in r["values"] for r in swept), shown
    assert sorted(r["values"]["score"] for r in swept) == [0.5, 1.0, 2.0, 4.0], shown
    output.locator(".lm-TabBar-tab:has-text('Chart')").first.click()
    output.locator("svg[role='img'] circle >> nth=4").wait_for()
    output.screenshot(path=str(shot_path("panel-widget-chart")))


def test_promote_shows_the_gate_verdict_first(lab: Lab, page: Any) -> None:
    open_notebook(page, lab, TRAIN)
    job = page.locator(".nbprod-job[data-job='pipeline']")
    job.locator("[data-promote='staging']").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator(".nbprod-verdict").wait_for()
    verdict = dialog.inner_text()
    assert "pipeline version 1 → staging: refused, a gate fails" in verdict
    assert "✗ tests" in verdict  # never tested: the gate says so before anything moves
    assert dialog.locator("button:has-text('Promote to staging')").count() == 0
    shot(page, "promote-verdict")
    dialog.locator(".jp-mod-reject").click()

    job.locator("[data-promote='dev']").click()
    dialog.locator("button:has-text('Promote to dev')").click()
    page.locator(".Toastify__toast:has-text('dev now points at version 1')").wait_for()
    stages = lab.api("/nbprod/api/jobs/pipeline/stages").json()
    assert next(s for s in stages if s["stage"] == "dev")["pointer"]["version"] == 1
    page.wait_for_selector(".nbprod-job[data-job='pipeline'] tr:has-text('dev') "
                           ".nbprod-version:text-is('v1')")


def test_buttons_follow_the_role(lab: Lab, page: Any) -> None:
    import getpass

    settings = lab.root / "pyproject.toml"
    original = settings.read_text()
    me = getpass.getuser()
    # A viewer who may promote to dev only: no Run, no Approve, Promote for dev only.
    settings.write_text(original + f'\n[tool.nbprod.roles]\nviewers = ["{me}"]\n'
                        f'admins = ["someone-else"]\npromote = {{ dev = ["{me}"] }}\n')
    try:
        open_notebook(page, lab, TRAIN)
        page.wait_for_selector(".nbprod-user:has-text('promote dev')")
        assert page.locator(".nbprod-run-button").is_disabled()
        job = page.locator(".nbprod-job[data-job='pipeline']")
        assert job.locator("[data-approve]").count() == 0
        assert job.locator("[data-promote='staging'], [data-promote='production']").count() == 0
        assert job.locator(".nbprod-run-job").count() == 0
        refused = lab.api("/nbprod/api/runs", "post", json={"notebook": TRAIN})
        assert refused.status_code == 403, refused.text  # the API refuses it too
    finally:
        settings.write_text(original)
