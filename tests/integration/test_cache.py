"""`--cache`: a succeeded run with the same run key is reused; any change executes again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..conftest import run_json

pytestmark = pytest.mark.slow


@pytest.fixture
def cached_project(project_dir: Path) -> Path:
    (project_dir / "data").mkdir()
    (project_dir / "data" / "input.csv").write_text("a,b\n1,2\n")
    (project_dir / "nbprod.toml").write_text(
        'notebook_dir = "."\n[notebooks.ok]\npath = "ok.ipynb"\ninputs = ["data/input.csv"]\n')
    return project_dir


def test_cache_hit_reuses_the_run_and_changes_execute_again(cached_project: Path) -> None:
    root = cached_project
    code, first = run_json(root, "run", "ok", "-p", "x", "3", "--cache")
    assert code == 0 and first["cache_hit"] is False  # nothing to reuse yet
    code, hit = run_json(root, "run", "ok", "-p", "x", "3", "--cache")
    assert code == 0 and hit["cache_hit"] is True and hit["run_id"] == first["run_id"]
    assert hit["run_key"] == first["run_key"]

    code, other = run_json(root, "run", "ok", "-p", "x", "4", "--cache")
    assert other["cache_hit"] is False and other["run_id"] != first["run_id"]

    code, forced = run_json(root, "run", "ok", "-p", "x", "3", "--cache", "--force")
    assert forced["cache_hit"] is False and forced["run_key"] == first["run_key"]

    (root / "data" / "input.csv").write_text("a,b\n1,3\n")
    code, new_input = run_json(root, "run", "ok", "-p", "x", "3", "--cache")
    assert new_input["cache_hit"] is False and new_input["run_key"] != first["run_key"]

    notebook = json.loads((root / "ok.ipynb").read_text())
    notebook["cells"].append({"cell_type": "code", "execution_count": None, "id": "new1",
                              "metadata": {}, "outputs": [], "source": "y = 1"})
    (root / "ok.ipynb").write_text(json.dumps(notebook))
    code, new_code = run_json(root, "run", "ok", "-p", "x", "3", "--cache")
    assert new_code["cache_hit"] is False
    assert new_code["notebook_version"] != first["notebook_version"]
    code, hit_again = run_json(root, "run", "ok", "-p", "x", "3", "--cache")
    assert hit_again["cache_hit"] is True and hit_again["run_id"] == new_code["run_id"]


def test_failed_runs_are_never_reused(project_dir: Path) -> None:
    code, failed = run_json(project_dir, "run", "raises.ipynb", "--cache")
    assert code == 3
    code, again = run_json(project_dir, "run", "raises.ipynb", "--cache")
    assert code == 3 and again["run_id"] != failed["run_id"] and again["cache_hit"] is False


def test_sweep_with_cache_reuses_points(project_dir: Path) -> None:
    code, first = run_json(project_dir, "sweep", "ok.ipynb", "--grid", "x=1,2,3")
    assert code == 0 and first["counts"] == {"succeeded": 3}
    code, second = run_json(project_dir, "sweep", "ok.ipynb", "--grid", "x=1,2,3,4", "--cache")
    assert code == 0
    cached = [p["cache_hit"] for p in second["points"]]
    assert cached == [True, True, True, False]
    assert [p["run_id"] for p in second["points"][:3]] == [p["run_id"] for p in first["points"]]
