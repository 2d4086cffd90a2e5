"""`nbprod sweep`: points, validation before anything runs, failures, sort, grouping."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import run_cli, run_json

pytestmark = pytest.mark.slow


def test_grid_is_the_cartesian_product_and_each_point_a_run(project_dir: Path) -> None:
    code, report = run_json(project_dir, "sweep", "ok.ipynb", "--grid", "x=1,2,3",
                            "--grid", "label=a,b")
    assert code == 0
    assert len(report["points"]) == 6 and report["counts"] == {"succeeded": 6}
    assert sorted((p["parameters"]["x"], p["parameters"]["label"])
                  for p in report["points"]) == sorted(
        (x, label) for x in (1, 2, 3) for label in ("a", "b"))  # as the contract types them
    assert {p["values"]["x2"] for p in report["points"]} == {2, 4, 6}
    code, runs = run_json(project_dir, "runs", "--sweep", report["sweep_id"])
    assert code == 0 and len(runs) == 6
    assert {r["sweep_id"] for r in runs} == {report["sweep_id"]}
    assert sorted(r["point"] for r in runs) == list(range(6))
    code, by_suffix = run_json(project_dir, "runs", "--sweep", report["sweep_id"][-6:])
    assert code == 0 and {r["run_id"] for r in by_suffix} == {r["run_id"] for r in runs}
    code, error = run_json(project_dir, "runs", "--sweep", "nosuch")
    assert code == 2 and "no sweep matches 'nosuch'" in error["error"]["message"]


def test_every_point_is_validated_before_anything_runs(project_dir: Path) -> None:
    code, error = run_json(project_dir, "sweep", "ok.ipynb", "--grid", "x=1,two,3")
    assert code == 2
    assert "sweep point 1 (x=two)" in error["error"]["message"]
    assert "expects int" in error["error"]["message"]
    code, runs = run_json(project_dir, "runs", "--all")
    assert runs == []  # nothing ran


def test_values_file_random_points_and_sort(project_dir: Path) -> None:
    (project_dir / "points.yaml").write_text("- {x: 5}\n- {x: 7, label: z}\n")
    code, report = run_json(project_dir, "sweep", "ok.ipynb", "--values", "points.yaml")
    assert code == 0 and [p["values"]["x2"] for p in report["points"]] == [10, 14]
    code, drawn = run_json(project_dir, "sweep", "ok.ipynb", "--random", "4",
                           "--range", "x=1:100", "--seed", "3")
    assert code == 0 and len(drawn["points"]) == 4
    assert all(1 <= p["parameters"]["x"] <= 100 for p in drawn["points"])
    text = run_cli(project_dir, "sweep", "ok.ipynb", "--grid", "x=3,9,1", "--sort", "x2")
    rows = [line for line in text.stdout.splitlines()
            if "succeeded" in line and line.split()[0].isdigit() and "points:" not in line]
    assert [int(r.split()[2]) for r in rows] == [9, 3, 1]  # point, label, x column order


def test_max_failures_stops_starting_points(project_dir: Path) -> None:
    code, report = run_json(project_dir, "sweep", "raises.ipynb", "--grid",
                            "x=1,2,3,4,5,6,7,8", "--max-failures", "2", "--workers", "1")
    assert code == 3
    states = [p["state"] for p in report["points"]]
    assert states.count("failed") >= 2 and "skipped" in states
    assert all(s in ("failed", "skipped") for s in states)
