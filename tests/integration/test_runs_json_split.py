"""``nbprod runs --all --json`` over many runs: a forked child builds the older half while the
command yields the newer one; the lines are exactly those of one process, in order, on SQLite
and PostgreSQL, also with filters, when the child fails, and when the reader stops early.

Each case runs in a fresh interpreter: it forks, and this pytest process may hold threads
other tests left (forking a threaded process can deadlock its child)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import postgres_database

_SCRIPT = r"""
import datetime as dt, os, sys
from pathlib import Path
from nbprod.api import open_project, runlist, runs_json
from nbprod.config import load_settings
from nbprod.records import Lineage, RunnerIdentity, RunRecord, new_run_id
from nbprod import registry as registry_module

root, url = Path(sys.argv[1]), sys.argv[2]
runlist._SPLIT_FROM = 10
start = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
with open_project(load_settings(root, env={"NBPROD_REGISTRY": url}), {}) as project:
    for i in range(61):
        when = start + dt.timedelta(seconds=i)
        record = RunRecord(run_id=new_run_id(when), state="running", started_at=when,
                           notebook="notebooks/a.ipynb" if i % 3 else "notebooks/b.ipynb",
                           notebook_version="v", parameters={"i": i}, lineage=Lineage(user="ann"))
        project.registry.create_run(record, runner=RunnerIdentity("elsewhere", 1, None))
        project.registry.finish_run(record.run_id, state="failed" if i % 4 == 0 else "succeeded",
                                    failure=None, values={"score": float(i)}, artifacts=[])
    for filters in ({}, {"state": "failed"}, {"notebook": "notebooks/b.ipynb"}):
        one = list(runs_json(project, processes=1, **filters))
        two = list(runs_json(project, processes=2, **filters))
        assert one == two and len(set(one)) == len(one) > 10, (filters, len(one), len(two))
    everything = list(runs_json(project, processes=1))
    assert len(everything) == 61

    forked = []
    real_fork = os.fork
    def fork():
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid
    os.fork = fork
    lines = runs_json(project, processes=2)
    next(lines)
    lines.close()  # the reader stopped (a closed pipe, Ctrl-C): the child is gone, reaped
    try:
        os.waitpid(forked[-1], os.WNOHANG)
        raise AssertionError("the child was not reaped")
    except ChildProcessError:
        pass

    def broken(*args, **kwargs):
        raise RuntimeError("the child cannot open the registry")
    registry_module.Registry.open = broken  # inherited by the child only from here on
    assert list(runs_json(project, processes=2)) == everything
print("ok")
"""


def _urls() -> Iterator[str]:
    with postgres_database("nbprod_split") as url:
        yield url


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql",
                                                            marks=pytest.mark.postgres)])
def test_the_halves_make_exactly_one_process_lines(project_dir: Path, backend: str) -> None:
    urls = [f"sqlite:///{project_dir / '.nbprod' / 'split.db'}"] if backend == "sqlite" \
        else _urls()
    for url in urls:
        proc = subprocess.run([sys.executable, "-c", _SCRIPT, str(project_dir), url],
                              capture_output=True, text=True, timeout=240, check=False)
        assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]
