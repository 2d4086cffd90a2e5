"""``nbprod.widgets.panel()`` headless (ipywidgets outside a kernel: button clicks run their
handlers, state is readable) against a real project: SQLite registry, local store, real
kernels for the runs its buttons start. The browser test (tests/lab) renders it in Lab.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ipywidgets as w
import pytest

from ..conftest import run_json

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parents[1] / "data"
SETTINGS = """notebook_dir = "."
heartbeat_interval = 1

[jobs.solo]
steps = ["panel"]
"""


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project holding the panel notebook, a job of it, as the kernel sees it: the
    notebook named by JPY_SESSION_NAME (JupyterLab sets it), the kernel in its folder."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "nbprod.toml").write_text(SETTINGS)
    shutil.copy(DATA / "lab" / "panel.ipynb", root / "panel.ipynb")
    shutil.copy(DATA / "notebooks" / "raises.ipynb", root / "raises.ipynb")
    for name in [n for n in os.environ if n.startswith("NBPROD_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("JPY_SESSION_NAME", str(root / "panel.ipynb"))
    monkeypatch.chdir(root)
    yield root
    subprocess.run([sys.executable, "-m", "nbprod", "kernels", "stop"], cwd=root,
                   capture_output=True, timeout=60, check=False)


@pytest.fixture
def panel(project_dir: Path) -> Iterator[Any]:
    import nbprod

    opened = nbprod.widgets.panel()
    yield opened
    opened.wait(300)
    opened.session.close()


def test_import_nbprod_does_not_load_the_widgets() -> None:
    code = "import sys, nbprod; print(sorted(m for m in sys.modules if 'widget' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_the_form_has_one_typed_input_per_parameter(panel: Any) -> None:
    assert isinstance(panel, w.Widget)
    inputs = panel.form.inputs
    assert list(inputs) == ["steps", "rate", "verbose", "label", "limit"]
    assert isinstance(inputs["steps"], w.IntText) and inputs["steps"].value == 3
    assert isinstance(inputs["rate"], w.FloatText) and inputs["rate"].value == 0.5
    assert isinstance(inputs["verbose"], w.Checkbox) and inputs["verbose"].value is False
    assert isinstance(inputs["label"], w.Text) and inputs["label"].value == "a"
    assert isinstance(inputs["limit"], w.Text) and inputs["limit"].value == "None"
    state = panel.get_state()
    assert state["_view_name"] == "VBoxView" and state["children"]


def test_run_records_a_run_that_nbprod_runs_lists_with_the_form_s_values(
        panel: Any, project_dir: Path) -> None:
    panel.form.inputs["steps"].value = 7
    panel.form.inputs["verbose"].value = True
    panel.form.inputs["limit"].value = "10"
    panel.run_button.click()
    assert panel.busy and panel.run_button.disabled
    assert panel.wait(300), "the run did not end"
    assert panel.error is None, panel.status.value
    assert "succeeded" in panel.status.value and panel.progress.value == panel.progress.max
    code, runs = run_json(project_dir, "runs")
    assert code == 0
    assert len(runs) == 1
    assert runs[0]["notebook"] == "panel.ipynb" and runs[0]["state"] == "succeeded"
    assert runs[0]["parameters"] == {"steps": 7, "rate": 0.5, "verbose": True,
                                     "label": "a", "limit": 10}
    assert runs[0]["values"]["score"] == 4.5
    assert runs[0]["run_id"] in panel.runs.value
    assert panel.chart_value.options == ("score",)
    assert "<svg" in panel.chart.value and "4.5" in panel.chart.value


def test_a_value_that_does_not_fit_is_marked_and_nothing_runs(panel: Any,
                                                              project_dir: Path) -> None:
    panel.form.inputs["limit"].value = "ten"
    assert panel.run() is False
    assert not panel.busy
    message = panel.form.errors["limit"].value
    assert "parameter &#x27;limit&#x27; expects int | None, got &#x27;ten&#x27; " \
           "(from the widget form)" in message
    assert panel.form.errors["steps"].value == ""
    assert "nothing started" in panel.status.value
    code, runs = run_json(project_dir, "runs")
    assert code == 0 and runs == []


def test_use_in_notebook_sets_the_checked_values_as_variables(panel: Any) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        panel.form.inputs["steps"].value = 9
        panel.form.inputs["limit"].value = "4"
        panel.use_button.click()
        assert shell.user_ns["steps"] == 9 and shell.user_ns["limit"] == 4
        assert shell.user_ns["rate"] == 0.5 and shell.user_ns["verbose"] is False
        assert panel.parameters == {"steps": 9, "rate": 0.5, "verbose": False, "label": "a",
                                    "limit": 4}
        assert "set steps=9" in panel.status.value
    finally:
        InteractiveShell.clear_instance()


def test_sweep_runs_every_point_of_the_grid_with_progress(panel: Any,
                                                           project_dir: Path) -> None:
    panel.grid.inputs["steps"].value = "1, 2"
    panel.grid.inputs["verbose"].value = "true,false"
    panel.form.inputs["rate"].value = 2.0
    assert panel.sweep() is True
    assert panel.wait(600)
    assert panel.error is None, panel.status.value
    assert "4 succeeded" in panel.status.value
    assert panel.progress.value == panel.progress.max == 4
    code, runs = run_json(project_dir, "runs")
    assert code == 0
    points = sorted((r["parameters"]["steps"], r["parameters"]["verbose"], r["values"]["score"])
                    for r in runs)
    assert points == [(1, False, 2.0), (1, True, 3.0), (2, False, 4.0), (2, True, 5.0)]
    assert len({r["sweep_id"] for r in runs}) == 1


def test_a_bad_grid_value_is_marked_under_its_field(panel: Any) -> None:
    panel.grid.inputs["steps"].value = "1, two"
    assert panel.sweep() is False
    assert "expects int, got &#x27;two&#x27; (from the widget sweep steps)" in \
        panel.grid.errors["steps"].value


def test_promote_shows_the_verdict_first_and_follows_the_role(project_dir: Path) -> None:
    import getpass

    import nbprod

    code, built = run_json(project_dir, "job", "build", "solo")
    assert code == 0, built
    me = getpass.getuser()
    settings = project_dir / "nbprod.toml"
    settings.write_text(SETTINGS + f'\n[roles]\nviewers = ["{me}"]\nadmins = ["x"]\n'
                        f'promote = {{ dev = ["{me}"] }}\n')
    opened = nbprod.widgets.panel()
    try:
        box = opened.promote
        assert box.job.value == "solo" and box.version.value == built["version"]
        assert opened.run_button.disabled  # a viewer may not run
        assert box.approve_button.disabled  # nor approve
        box.stage.value = "staging"
        verdict = box.check()
        assert verdict is not None and not verdict["passed"]
        assert "refused" in box.verdict.value and box.promote_button.disabled
        box.stage.value = "dev"
        assert box.check()["passed"] and not box.promote_button.disabled
        box.promote_button.click()
        assert "dev now points at version 1" in box.verdict.value
        code, stages = run_json(project_dir, "stages", "solo")
        assert code == 0 and stages
    finally:
        opened.session.close()
    code, audit = run_json(project_dir, "audit", "solo")
    assert code == 0
    assert any(e["action"] == "promote" and e["stage"] == "dev" and e["outcome"] == "ok"
               for e in audit), audit


def test_under_nbprod_run_the_panel_is_only_a_note(project_dir: Path) -> None:
    code, run = run_json(project_dir, "run", "panel")
    assert code == 0, run
    notebook = json.loads(Path(next(a["path"] for a in run["artifacts"]
                                    if a["name"] == "notebook.ipynb")).read_text())
    last = notebook["cells"][-1]["outputs"]
    assert any("not shown under" in json.dumps(o) for o in last), last


def test_outside_lab_without_a_notebook_it_says_what_to_do(
        project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbprod
    from nbprod.errors import InvalidInput

    monkeypatch.delenv("JPY_SESSION_NAME")
    with pytest.raises(InvalidInput, match="does not know its notebook") as raised:
        nbprod.widgets.panel()
    assert "panel('notebooks/train.ipynb')" in raised.value.one_line()
    opened = nbprod.widgets.panel("raises.ipynb")
    try:
        assert opened.session.notebook == "raises.ipynb"
    finally:
        opened.session.close()
