"""What the CLI used to decide, now in nbprod.api (issue 9 §4): sweep points and exit policy,
job parameter scoping. The CLI parses, calls, renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbprod.api.jobs import scoped_parameters
from nbprod.api.sweep import PointResult, PointSpec, SweepReport, assemble_points
from nbprod.errors import InvalidInput
from nbprod.notebook.values import GivenValue


def test_sweep_points_from_grid_values_and_random(tmp_path: Path) -> None:
    values = tmp_path / "points.yaml"
    values.write_text("- {x: 7}\n")
    points = assemble_points(PointSpec(grid=("x=1,2", "y=a"), values_file=values,
                                       random_count=2, ranges=("z=1:3",), seed=4))
    assert [{k: v.value for k, v in p.items()} for p in points][:3] == [
        {"x": "1", "y": "a"}, {"x": "2", "y": "a"}, {"x": 7}]
    assert len(points) == 5 and all(1 <= p["z"].value <= 3 for p in points[3:])


@pytest.mark.parametrize(("spec", "message"), [
    (PointSpec(grid=("x",)), "--grid 'x': use NAME=v1,v2,..."),
    (PointSpec(grid=("=1,2",)), "--grid '=1,2': use NAME=v1,v2,..."),
    (PointSpec(random_count=3), "--random needs at least one --range"),
    (PointSpec(random_count=3, ranges=("z",)), "--range 'z': use NAME=LOW:HIGH"),
])
def test_bad_point_options_are_invalid_input(spec: PointSpec, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace("+", r"\+")):
        assemble_points(spec)


def test_the_sweep_exit_code_follows_its_points() -> None:
    def report(*states: str) -> SweepReport:
        results = tuple(PointResult(i, {}, skipped=s == "skipped", error=s)
                        for i, s in enumerate(states))
        return SweepReport("s", "nb", results)

    assert report("skipped").exit_code == 0
    assert report("lost", "skipped").exit_code == 4


def test_job_parameters_are_scoped_by_step() -> None:
    given = scoped_parameters([("alpha", "1"), ("train.alpha", "2"), ("a.b.c", "3")])
    assert given == {"*": {"alpha": GivenValue("1", "-p", True)},
                     "train": {"alpha": GivenValue("2", "-p", True)},
                     "a.b": {"c": GivenValue("3", "-p", True)}}
