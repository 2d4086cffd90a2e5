"""lint_notebooks and run_notebook_tests take a Project like the other use cases (issue 9 §4):
they record into its registry as its acting user, and lint opens the registry only when it
has something new to record."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nbprod.api import open_project
from nbprod.api.lint import lint_notebooks
from nbprod.config import load_settings
from nbprod.lint.config import LintConfig


def test_lint_records_in_the_projects_registry_as_its_user(project_dir: Path) -> None:
    settings = dataclasses.replace(load_settings(project_dir, env={}), identity="env")
    with open_project(settings, {"NBPROD_USER": "lint-bot"}) as project:
        outcome = lint_notebooks(project, [project_dir / "ok.ipynb"], LintConfig())
        assert outcome.recorded == 1
        [check] = project.registry.checks.latest(kind="lint", limit=5)
        assert check.user == "lint-bot" and check.notebook == "ok.ipynb"
    with open_project(settings, {"NBPROD_USER": "lint-bot"}) as again:
        assert lint_notebooks(again, [project_dir / "ok.ipynb"], LintConfig()).recorded == 0
        assert again._registry is None  # already recorded: the database was not opened


_TESTS_IN_A_FRESH_PROCESS = """
import json, sys
from pathlib import Path
from nbprod.api import open_project
from nbprod.api.testing import run_notebook_tests
from nbprod.config import load_settings
from nbprod.validate.config import TestConfig

root = Path(sys.argv[1])
with open_project(load_settings(root, env={}), {}) as project:
    report = run_notebook_tests(project, [root / "ok.ipynb"], TestConfig(regression=False))
    [check] = project.registry.checks.latest(kind="test", limit=5)
    print(json.dumps({"passed": report.passed, "recorded": report.recorded,
                      "user": check.user, "project_user": project.user}))
"""


@pytest.mark.slow
def test_notebook_tests_record_in_the_projects_registry(project_dir: Path) -> None:
    # In a process of its own: run_notebook_tests forks workers, and this pytest process
    # has threads left by other tests (forking a threaded process can deadlock).
    proc = subprocess.run([sys.executable, "-c", _TESTS_IN_A_FRESH_PROCESS, str(project_dir)],
                          capture_output=True, text=True, timeout=280, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["passed"] and result["recorded"] == 1
    assert result["user"] == result["project_user"] != ""


def _many(folder: Path, count: int) -> list[Path]:
    import nbformat

    folder.mkdir()
    paths = []
    for number in range(count):
        path = folder / f"nb{number:02d}.ipynb"
        path.write_text(nbformat.writes(nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_code_cell(f"import os\nvalue = {number}")])))
        paths.append(path)
    return paths


def test_each_notebook_is_recorded_once_with_its_findings(project_dir: Path) -> None:
    """Enough notebooks for a process per core: every result is recorded exactly once, with
    the findings the lint reported."""
    paths = _many(project_dir / "many", 40)
    with open_project(load_settings(project_dir, env={}), {}) as project:
        outcome = lint_notebooks(project, [project_dir / "many"], LintConfig(), use_cache=False)
        checks = project.registry.checks.latest(kind="lint", limit=100)

    assert outcome.recorded == len(paths) == len(checks)
    assert sorted(c.notebook for c in checks) == [f"many/{p.name}" for p in paths]
    linted = {r.path: sorted(f.code for f in r.findings) for r in outcome.report.files}
    assert {c.notebook: sorted(f["code"] for f in c.details["findings"]) for c in checks} \
        == linted
    assert all("F401" in codes for codes in linted.values())


def test_a_registry_that_refuses_the_write_fails_the_lint_in_one_line(
        project_dir: Path) -> None:
    """A registry locked by another writer past the busy timeout: the lint fails with one
    line saying so, and nothing is half-recorded."""
    import sqlite3

    from nbprod.errors import RegistryError

    _many(project_dir / "many", 40)
    with open_project(load_settings(project_dir, env={}), {}) as project:
        project.registry.checks.latest(limit=1)  # migrated, then locked by another writer
        database = project.registry_url.removeprefix("sqlite:///")
        project.busy_timeout = 0.2
        project.close()
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(RegistryError) as raised:
                lint_notebooks(project, [project_dir / "many"], LintConfig(), use_cache=False)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert "\n" not in raised.value.one_line()
        assert "locked" in raised.value.one_line() or "busy" in raised.value.one_line()
        assert project.registry.checks.latest(kind="lint", limit=5) == []


def _with_output(path: Path, text: str) -> None:
    """The notebook's first code cell with one stream output (its version unchanged)."""
    notebook = json.loads(path.read_text())
    cell = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": text}]
    path.write_text(json.dumps(notebook))


def test_a_result_equal_to_the_latest_recorded_is_not_recorded_again(
        project_dir: Path) -> None:
    """Without the cache, re-linting an unchanged folder adds no rows; a result that differs
    from its version's latest (an output changed, the version did not) is added, and becomes
    what the gates read; going back to the earlier result is a change again."""
    paths = _many(project_dir / "many", 40)
    target = paths[3]
    with open_project(load_settings(project_dir, env={}), {}) as project:
        def lint() -> int:
            return lint_notebooks(project, [project_dir / "many"], LintConfig(),
                                  use_cache=False).recorded

        def latest() -> list[str]:
            version = project.registry.checks.latest(notebook="many/nb03.ipynb",
                                                     kind="lint", limit=1)[0].notebook_version
            newest = project.registry.checks.for_version(version, "lint")[0]
            return sorted(f["code"] for f in newest.details["findings"])

        assert lint() == 40
        assert lint() == 0
        assert len(project.registry.checks.latest(kind="lint", limit=500)) == 40
        _with_output(target, "key AKIAIOSFODNN7EXAMPLE\n")
        assert lint() == 1
        assert "NBP303" in latest()
        _with_output(target, "nothing to see\n")
        assert lint() == 1
        assert "NBP303" not in latest()
        assert lint() == 0
        assert len(project.registry.checks.latest(kind="lint", limit=500)) == 42


def test_copies_of_one_notebook_are_each_recorded_every_time(project_dir: Path) -> None:
    """Two files with one version: both results are added on each lint, so the latest for
    the version is always the last file's, as if every result were recorded."""
    folder = project_dir / "copies"
    [first] = _many(folder, 1)
    second = folder / "nb01.ipynb"
    second.write_bytes(first.read_bytes())
    _with_output(second, "key AKIAIOSFODNN7EXAMPLE\n")
    with open_project(load_settings(project_dir, env={}), {}) as project:
        for _ in range(2):
            outcome = lint_notebooks(project, [folder], LintConfig(), use_cache=False)
            assert outcome.recorded == 2
            version = outcome.report.files[0].notebook_version
            assert version == outcome.report.files[1].notebook_version
            assert project.registry.checks.for_version(version, "lint")[0].notebook == \
                "copies/nb01.ipynb"


def test_a_registry_from_before_result_digests_is_migrated_and_recorded_once(
        project_dir: Path) -> None:
    """A registry at revision 0007 holding a lint result: opening it adds the digest column
    (NULL in the old row); the next lint records its result once, then no more."""
    import contextlib
    import sqlite3

    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from nbprod.registry import Registry, db
    from nbprod.registry.schema import HEAD_REVISION

    paths = _many(project_dir / "many", 1)
    database = project_dir / ".nbprod" / "registry.db"
    database.parent.mkdir(exist_ok=True)
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
        connection.execute(sa.text(
            "INSERT INTO checks (kind, notebook, notebook_version, passed, summary, details, "
            "created_at) VALUES ('lint', 'many/nb00.ipynb', 'v-old', 1, 'clean', '{}', "
            "'2026-01-01 00:00:00')"))
    engine.dispose()
    Registry.open(f"sqlite:///{database}").close()
    with contextlib.closing(sqlite3.connect(database)) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == \
            HEAD_REVISION
        assert conn.execute("SELECT result_digest FROM checks").fetchall() == [(None,)]
    with open_project(load_settings(project_dir, env={}), {}) as project:
        assert lint_notebooks(project, paths, LintConfig(), use_cache=False).recorded == 1
        assert lint_notebooks(project, paths, LintConfig(), use_cache=False).recorded == 0
        [check, old] = project.registry.checks.latest(kind="lint", limit=5)
        assert check.result_digest is not None and old.result_digest is None
