"""Runs read a page at a time (Registry.iter_runs, iter_run_json; `nbprod runs --json`) are
exactly what list_runs and RunRecord.to_json give, on SQLite and PostgreSQL: every column,
awkward values (big integers, 17-digit floats, nested, non-ASCII), failures, unfinished runs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from nbprod.records import Failure, Lineage, RunnerIdentity, RunRecord, new_run_id
from nbprod.registry import Registry

from ..conftest import run_cli
from .test_run_listing import registry  # noqa: F401  (the fixture: SQLite and PostgreSQL)

START = dt.datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=dt.UTC)
VALUES = [0.1 + 0.2, 2**70, -3, "text", "", None, True, [1, [2, {"a": None}]],
          {"nested": {"x": 1.5e300}}, "naïve ✓", 1e-7]


def _seed(target: Registry, count: int) -> None:
    for i in range(count):
        when = START + dt.timedelta(seconds=7 * i, microseconds=0 if i % 2 else 1234)
        record = RunRecord(
            run_id=new_run_id(when), notebook=f"notebooks/n{i % 3}.ipynb",
            notebook_version=f"v{i}", state="running", started_at=when,
            parameters={"alpha": i / 3, "big": 2**65 + i, "name": f"é{i}"} if i % 4 else {},
            contract=[{"name": "alpha", "type": "float"}] if i % 2 else [],
            lineage=Lineage(git_commit="c" * 40, git_dirty=(None, True, False)[i % 3],
                            environment_digest="e" * 64, python="3.11",
                            input_digests={"data": "d" * 64} if i % 3 == 1 else {},
                            kernel="python3", user=f"u{i % 2}", host="h",
                            upstream={"prepare": "r1"} if i % 5 == 0 else {}),
            job_run_id="j1" if i % 6 == 0 else None, step="train" if i % 6 == 0 else None,
            sweep_id="s1" if i % 7 == 0 else None, point=i if i % 7 == 0 else None)
        target.create_run(record, runner=RunnerIdentity("h", 1, "1"), run_key=f"k{i}")
        if i % 9 == 8:
            continue  # stays running: no end, no duration
        failed = i % 4 == 3
        target.finish_run(
            record.run_id, state="failed" if failed else "succeeded",
            failure=Failure(kind="cell_error", message="boom", cell_index=2, ename="E",
                            check={"rule": "x"} if i % 8 == 7 else None) if failed else None,
            values={f"v{k}": VALUES[(i + k) % len(VALUES)] for k in range(i % 4)},
            artifacts=[(name, f"runs/{record.run_id}/{name}", "a" * 64, 10 + i)
                       for name in ("report.html", "notebook.ipynb")[:i % 3]],
            note="a note" if i % 5 == 1 else None,
            ended_at=when + dt.timedelta(seconds=1.5 + i, microseconds=i))


def _locate(key: str) -> str:
    return f"/store/{key}"


@pytest.mark.parametrize("page", [1, 4, 500])
def test_streamed_runs_are_the_listed_runs(registry: Registry, page: int) -> None:  # noqa: F811
    _seed(registry, 40)
    listed = registry.list_runs(locate=_locate)

    assert len(listed) == 40
    assert list(registry.iter_runs(locate=_locate, page=page)) == listed
    streamed = [json.loads(line) for line in registry.iter_run_json(locate=_locate, page=page)]
    assert streamed == [r.to_json() for r in listed]
    assert streamed[0]["values"] or any(s["values"] for s in streamed)


@pytest.mark.parametrize(("filters", "limit"), [({}, 7), ({"state": "failed"}, None),
                                                ({"notebook": "notebooks/n1.ipynb"}, 5),
                                                ({"state": "succeeded"}, 3)])
def test_streamed_runs_keep_filters_and_limits(registry: Registry,  # noqa: F811
                                               filters: dict[str, str],
                                               limit: int | None) -> None:
    _seed(registry, 30)
    listed = registry.list_runs(limit=limit, locate=_locate, **filters)

    assert listed and all(r.state == filters.get("state", r.state) for r in listed)
    assert list(registry.iter_runs(limit=limit, locate=_locate, page=2, **filters)) == listed
    assert [json.loads(x) for x in registry.iter_run_json(
        limit=limit, locate=_locate, page=2, **filters)] == [r.to_json() for r in listed]


def test_runs_json_streams_one_array(project_dir: Path) -> None:
    from nbprod.api import open_project
    from nbprod.config import load_settings

    with open_project(load_settings(project_dir, env={}), {}) as project:
        _seed(project.registry, 12)
        result = run_cli(project_dir, "runs", "--all", "--json")  # reaps the "running" ones
        expected = [r.to_json() for r in project.registry.list_runs(
            locate=project.store.location)]

    assert result.returncode == 0, result.stderr
    assert "lost" in {run["state"] for run in expected}
    assert json.loads(result.stdout) == expected
    assert len(result.stdout.splitlines()) == 14  # "[", one run a line, "]"
    assert any(run["artifacts"] for run in expected)

    empty = run_cli(project_dir, "runs", "--json", "--notebook", "nothing-like-it")
    assert empty.returncode == 0 and json.loads(empty.stdout) == []


def test_cached_run_is_the_newest_succeeded_run_of_its_key(registry: Registry) -> None:  # noqa: F811
    _seed(registry, 40)  # run key k{i}; i % 4 == 3 failed, i % 9 == 8 still running
    for i, state in ((1, "succeeded"), (2, "failed"), (3, "succeeded"), (4, "running")):
        when = START + dt.timedelta(days=1, seconds=i)
        record = RunRecord(run_id=new_run_id(when), notebook="notebooks/n0.ipynb",
                           notebook_version="v", state="running", started_at=when)
        registry.create_run(record, runner=RunnerIdentity("h", 1, "1"), run_key="shared")
        if state != "running":
            registry.finish_run(record.run_id, state=state, failure=None, values={},
                                artifacts=[], ended_at=when)
        if i == 3:
            newest_succeeded = record.run_id

    found = registry.cached_run("shared")
    assert found is not None and found.run_id == newest_succeeded
    assert found.state == "succeeded"
    assert registry.cached_run("k3") is None  # failed
    assert registry.cached_run("k8") is None  # running
    assert registry.cached_run("k5") is not None
    assert registry.cached_run("no such key") is None
