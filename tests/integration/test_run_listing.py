"""Run lists a page at a time (registry/listing.py) on SQLite and PostgreSQL: cursors both
ways, exact filters, distinct notebooks and users, value series; and the indexes migration 0005
adds are the ones those queries use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from nbprod.records import Lineage, RunnerIdentity, RunRecord, new_run_id
from nbprod.registry import Registry

from ..conftest import postgres_database

START = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)


def _postgres() -> Iterator[str]:
    with postgres_database("nbprod_list") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    if request.param == "sqlite":
        opened = Registry.open(f"sqlite:///{tmp_path / 'registry.db'}")
        yield opened
        opened.close()
        return
    for url in _postgres():
        opened = Registry.open(url)
        yield opened
        opened.close()


def _seed(registry: Registry, count: int) -> list[str]:
    ids = []
    for i in range(count):
        when = START + dt.timedelta(seconds=i)
        notebook = "notebooks/a.ipynb" if i % 3 else "notebooks/b.ipynb"
        record = RunRecord(run_id=new_run_id(when), notebook=notebook, notebook_version="v",
                           state="running", started_at=when, parameters={"i": i},
                           lineage=Lineage(user=("ann", "ben", "cat")[i % 3]))
        registry.create_run(record, runner=RunnerIdentity("elsewhere", 1, None))
        registry.finish_run(record.run_id, state="failed" if i % 4 == 0 else "succeeded",
                            failure=None, values={"score": float(i), "tag": "t"}, artifacts=[])
        ids.append(record.run_id)
    return ids


def test_pages_after_a_cursor_both_ways(registry: Registry) -> None:
    ids = list(reversed(_seed(registry, 25)))  # newest first
    first, page = registry.page_runs({}, limit=10)
    assert [r.run_id for r in first] == ids[:10]
    assert page.has_older and not page.has_newer
    second, page = registry.page_runs({}, before=ids[9], limit=10)
    assert [r.run_id for r in second] == ids[10:20] and page.has_older and page.has_newer
    last, page = registry.page_runs({}, before=ids[19], limit=10)
    assert [r.run_id for r in last] == ids[20:] and not page.has_older
    back, page = registry.page_runs({}, after=ids[10], limit=10)
    assert [r.run_id for r in back] == ids[:10] and not page.has_newer and page.has_older
    assert first[0].values == {"score": 24.0, "tag": "t"}


def test_filters_are_exact_and_combine(registry: Registry) -> None:
    _seed(registry, 24)
    runs, _ = registry.page_runs({"notebook": "notebooks/b.ipynb", "state": "failed"},
                                 limit=50)
    assert runs and all(r.notebook == "notebooks/b.ipynb" and r.state == "failed"
                        for r in runs)
    by_user, _ = registry.page_runs({"user": "ben"}, limit=50)
    assert len(by_user) == 8 and {r.lineage.user for r in by_user} == {"ben"}
    assert registry.page_runs({"notebook": "a.ipynb"}, limit=50)[0] == []  # exact, no LIKE


def test_distinct_values_and_series(registry: Registry) -> None:
    _seed(registry, 12)
    assert registry.distinct("notebook") == ["notebooks/a.ipynb", "notebooks/b.ipynb"]
    assert registry.distinct("user") == ["ann", "ben", "cat"]
    series = registry.value_series("notebooks/b.ipynb", "score", limit=3)
    assert [p.value for p in series] == [3.0, 6.0, 9.0]  # the newest three, oldest first
    assert registry.value_names("notebooks/a.ipynb") == ["score"]  # "tag" is not numeric
    with pytest.raises(ValueError):
        registry.distinct("state")


def test_sqlite_answers_a_filtered_page_from_an_index(tmp_path: Path) -> None:
    registry = Registry.open(f"sqlite:///{tmp_path / 'registry.db'}")
    try:
        with registry.engine.connect() as conn:
            for column in ("state", "notebook", '"user"'):
                plan = " ".join(str(row[-1]) for row in conn.execute(sa.text(
                    f"EXPLAIN QUERY PLAN SELECT run_id FROM runs WHERE {column} = 'x' "
                    "AND run_id < 'z' ORDER BY run_id DESC LIMIT 51")))
                assert "USING COVERING INDEX ix_runs_" in plan, plan
                assert "TEMP B-TREE" not in plan, plan  # no sort
    finally:
        registry.close()
