"""`nbprod test`: nbval regression with sanitizers and tolerance, smoke runs, recorded results."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ..conftest import DATA, run_cli, run_json

pytestmark = pytest.mark.slow
REGRESSION = DATA.parent / "regression"


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """A project with the regression notebooks and two smoke notebooks."""
    root = tmp_path / "suite"
    (root / "notebooks").mkdir(parents=True)
    (root / "nbprod.toml").write_text('notebook_dir = "notebooks"\n')
    for notebook in REGRESSION.glob("*.ipynb"):
        shutil.copy(notebook, root / "notebooks" / notebook.name)
    for name in ("ok", "raises"):
        shutil.copy(DATA / f"{name}.ipynb", root / "notebooks" / f"{name}.ipynb")
    return root


def test_matching_outputs_pass_and_changed_ones_fail_naming_the_cell(suite: Path) -> None:
    code, results = run_json(suite, "test", "notebooks/matches.ipynb",
                             "notebooks/changed.ipynb")
    assert code == 1
    by_name = {r["notebook"]: r for r in results}
    assert by_name["notebooks/matches.ipynb"]["passed"] is True
    assert by_name["notebooks/matches.ipynb"]["regression"]["cells_checked"] == 3
    changed = by_name["notebooks/changed.ipynb"]
    assert changed["passed"] is False
    failure = changed["regression"]["failures"][0]
    assert failure["cell_index"] == 2 and failure["kind"] == "output"
    assert "-2.718282" in failure["diff"] and "+3.141593" in failure["diff"]
    text = run_cli(suite, "test", "notebooks/changed.ipynb")
    assert text.returncode == 1
    assert "cell 2: saved outputs no longer match" in text.stderr


def test_tolerance_accepts_small_float_drift_in_text_and_dataframes(suite: Path) -> None:
    code, results = run_json(suite, "test", "notebooks/drifted.ipynb")
    assert code == 1 and results[0]["regression"]["failures"][0]["cell_index"] == 2
    (suite / "nbprod.toml").write_text(
        'notebook_dir = "notebooks"\n[test]\ntolerance = { rel = 1e-5 }\n')
    code, results = run_json(suite, "test", "notebooks/drifted.ipynb")
    assert code == 0, results
    assert results[0]["regression"]["cells_checked"] == 3
    # tolerance is not a blank cheque: a real change still fails
    code, results = run_json(suite, "test", "notebooks/changed.ipynb")
    assert code == 1


def test_sanitizer_makes_a_volatile_output_pass(suite: Path) -> None:
    code, _ = run_json(suite, "test", "notebooks/timestamp.ipynb")
    assert code == 1
    (suite / "nbprod.toml").write_text(
        'notebook_dir = "notebooks"\n[test]\nsanitize = [{ regex = '
        "'\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d+', replace = \"<TIME>\" }]\n")
    code, results = run_json(suite, "test", "notebooks/timestamp.ipynb")
    assert code == 0, results


def test_smoke_run_that_raises_fails_with_cell_and_exception(suite: Path) -> None:
    code, results = run_json(suite, "test", "notebooks/raises.ipynb", "notebooks/ok.ipynb")
    assert code == 1
    by_name = {r["notebook"]: r for r in results}
    raised = by_name["notebooks/raises.ipynb"]
    smoke = raised["smoke"]
    # its errors in full: a repr of every result is cut in the middle, hiding them
    assert smoke is not None, raised["errors"]
    assert smoke["state"] == "failed"
    assert smoke["failure"]["cell_index"] == 3
    assert smoke["failure"]["ename"] == "ValueError"
    assert by_name["notebooks/ok.ipynb"]["passed"] is True
    # a smoke run is a normal run record
    code, shown = run_json(suite, "show", smoke["run_id"])
    assert code == 0 and shown["failure"]["kind"] == "cell_error"


def test_test_parameters_from_settings_drive_the_smoke_run(suite: Path) -> None:
    (suite / "nbprod.toml").write_text(
        'notebook_dir = "notebooks"\n[notebooks.ok]\npath = "notebooks/ok.ipynb"\n'
        'test_parameters = { x = 5, label = "smoke" }\n')
    code, results = run_json(suite, "test", "notebooks/ok.ipynb")
    assert code == 0
    assert results[0]["smoke"]["parameters"] == {"x": 5, "label": "smoke"}
    assert results[0]["smoke"]["values"]["x2"] == 10


def test_results_are_recorded_against_the_notebook_version_and_shown(suite: Path) -> None:
    assert run_cli(suite, "lint", "notebooks/ok.ipynb").returncode == 0
    code, results = run_json(suite, "test", "notebooks/ok.ipynb")
    assert code == 0
    run_id = results[0]["smoke"]["run_id"]
    code, shown = run_json(suite, "show", run_id)
    kinds = {(c["kind"], c["passed"]) for c in shown["checks"]}
    assert {("lint", True), ("test", True)} <= kinds
    assert all(c["notebook_version"] == shown["notebook_version"] for c in shown["checks"])
    code, checks = run_json(suite, "checks", "notebooks/ok.ipynb")
    assert code == 0 and {c["kind"] for c in checks} == {"lint", "test"}
    text = run_cli(suite, "show", run_id).stdout
    assert "checks of this notebook version" in text
    # an unchanged lint result is not recorded again: the time shown is when it was first
    listed = run_cli(suite, "checks", "notebooks/ok.ipynb").stdout
    assert "recorded" in listed.splitlines()[0] and "when" not in listed.splitlines()[0]


def test_junit_xml_and_parallel_workers(suite: Path) -> None:
    report = suite / "out" / "junit.xml"
    proc = run_cli(suite, "test", "--workers", "2", "--junitxml", str(report))
    assert proc.returncode == 1
    root = ET.parse(report).getroot()
    assert root.tag == "testsuite" and root.get("tests") == "6"
    failed = {case.get("name") for case in root.iter("testcase")
              if case.find("failure") is not None}
    assert failed == {"notebooks/changed.ipynb", "notebooks/drifted.ipynb",
                      "notebooks/timestamp.ipynb", "notebooks/raises.ipynb"}


def test_a_malformed_notebook_fails_alone(suite: Path) -> None:
    shutil.copy(DATA / "truncated.ipynb", suite / "notebooks" / "truncated.ipynb")
    code, results = run_json(suite, "test", "notebooks/truncated.ipynb",
                             "notebooks/matches.ipynb")
    assert code == 1
    by_name = {r["notebook"]: r for r in results}
    assert "not valid JSON" in by_name["notebooks/truncated.ipynb"]["errors"][0]
    assert by_name["notebooks/matches.ipynb"]["passed"] is True


def test_record_of_regression_keeps_no_stray_files(suite: Path) -> None:
    notebook = json.loads((suite / "notebooks" / "matches.ipynb").read_text())
    notebook["cells"].append({"cell_type": "code", "execution_count": None, "id": "rec1",
                              "metadata": {}, "outputs": [],
                              "source": "import nbprod\nnbprod.record('a', 1)"})
    (suite / "notebooks" / "records.ipynb").write_text(json.dumps(notebook))
    code, _ = run_json(suite, "test", "notebooks/records.ipynb")
    assert code == 0
    assert not (suite / "notebooks" / "nbprod-local").exists()
