"""A process opens the same registry again without a new engine: its compiled statements and
connections are reused (a sweep's worker, the server and the benchmark open the project for
each run). A database file replaced or removed since is opened afresh, and the kept engines
are bounded."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from nbprod.registry import Registry, db
from nbprod.registry.schema import HEAD_REVISION


def _compiles(engine: sa.Engine) -> list[str]:
    seen: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _note(conn: object, cursor: object, statement: str, params: object, context: Any,
              executemany: bool) -> None:
        if context.compiled is not None and context.cache_hit != context.dialect.CACHE_HIT:
            seen.append(statement)  # compiled for this execution

    return seen


def test_opening_again_reuses_the_engine_and_its_compiled_statements(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    first = Registry.open(url)
    first.latest_run_id("nb.ipynb")
    first.close()
    second = Registry.open(url)
    try:
        assert second.engine is first.engine
        compiled = _compiles(second.engine)
        second.latest_run_id("nb.ipynb")
        assert compiled == []  # the statement compiled for the first came from the cache
    finally:
        second.close()


def test_a_replaced_or_removed_database_gets_a_new_engine(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    url = f"sqlite:///{path}"
    first = Registry.open(url)
    first.close()
    for name in os.listdir(tmp_path):  # the database and its WAL files, gone
        (tmp_path / name).unlink()
    second = Registry.open(url)
    try:
        assert second.engine is not first.engine
        assert second.latest_run_id("nb.ipynb") is None
        with sqlite3.connect(path) as conn:  # the new file was migrated
            assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == \
                HEAD_REVISION
    finally:
        second.close()


def test_other_timeouts_and_in_memory_databases_are_not_shared(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    a, b = Registry.open(url), Registry.open(url, busy_timeout=0.5)
    assert a.engine is not b.engine
    memory = db.connect("sqlite://")
    assert db.connect("sqlite://") is not memory
    for registry in (a, b):
        registry.close()


def test_kept_engines_are_bounded_and_the_oldest_disposed(tmp_path: Path) -> None:
    opened = []
    for index in range(db._KEEP + 2):
        registry = Registry.open(f"sqlite:///{tmp_path / f'r{index}.db'}")
        registry.latest_run_id("nb.ipynb")
        registry.close()
        opened.append(registry)
    kept = [entry.engine for entry in db._KEPT.values()]
    assert len(kept) == db._KEEP
    assert opened[0].engine not in kept and opened[-1].engine in kept
    assert opened[0].engine.pool.checkedin() == 0  # type: ignore[attr-defined]  # disposed
    # still usable by whoever holds it
    assert opened[0].latest_run_id("nb.ipynb") is None


def test_a_forked_child_opens_its_own_engine(tmp_path: Path) -> None:
    """A pooled connection must not cross fork: the child's registry is a new engine, and
    the parent's goes on working (in a fresh interpreter: this one may hold threads)."""
    import subprocess
    import sys

    script = r"""
import os, sys
from nbprod.registry import Registry
url = sys.argv[1]
parent = Registry.open(url)
parent.latest_run_id("nb.ipynb")
parent.close()
pid = os.fork()
if pid == 0:
    child = Registry.open(url)
    ok = child.engine is not parent.engine and child.latest_run_id("nb.ipynb") is None
    child.close()
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
again = Registry.open(url)
assert again.engine is parent.engine and again.latest_run_id("nb.ipynb") is None
print("child", os.waitstatus_to_exitcode(status))
"""
    done = subprocess.run([sys.executable, "-c", script, f"sqlite:///{tmp_path / 'r.db'}"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "child 0"
