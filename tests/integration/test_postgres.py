"""The same registry code on PostgreSQL: migrations, runs, concurrent writers.

Needs a server: NBPROD_TEST_POSTGRES_URL (a role allowed to CREATE DATABASE). `.ci/run` starts
one; without it these tests skip, unless NBPROD_REQUIRE_SERVICES=1, where they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from nbprod.registry import Registry
from nbprod.registry.schema import HEAD_REVISION

from ..conftest import postgres_database, run_json

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty database on the test server; dropped afterwards."""
    with postgres_database("nbprod") as url:
        yield url


def test_migrates_once_and_reopens_at_head(pg_url: str) -> None:
    registry = Registry.open(pg_url)
    registry.close()
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == \
            HEAD_REVISION
    engine.dispose()
    Registry.open(pg_url).close()  # at head: no second migration, no error


def test_runs_are_recorded_in_postgres(project_dir: Path, pg_url: str) -> None:
    env = {"NBPROD_REGISTRY": pg_url}
    code, record = run_json(project_dir, "run", "ok.ipynb", "-p", "x", "3", env=env)
    assert code == 0 and record["values"] == {"x2": 6, "label": "a"}
    code, failed = run_json(project_dir, "run", "raises.ipynb", env=env)
    assert code == 3 and failed["failure"]["cell_index"] == 3
    code, runs = run_json(project_dir, "runs", env=env)
    assert [r["run_id"] for r in runs] == [failed["run_id"], record["run_id"]]
    assert not (project_dir / ".nbprod" / "registry.db").exists()


def test_concurrent_runs_on_postgres(project_dir: Path, pg_url: str) -> None:
    env = {**os.environ, "NBPROD_REGISTRY": pg_url}
    procs = [subprocess.Popen([sys.executable, "-m", "nbprod", "run", "ok.ipynb", "-p", "x",
                               str(i), "--json"], cwd=project_dir, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(4)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert json.loads(out)["state"] == "succeeded"
    code, runs = run_json(project_dir, "runs", "--all", env={"NBPROD_REGISTRY": pg_url})
    assert code == 0
    assert sorted(r["parameters"]["x"] for r in runs) == [0, 1, 2, 3]


def test_unreachable_server_is_one_clear_line(project_dir: Path) -> None:
    from ..conftest import run_cli

    proc = run_cli(project_dir, "runs", env={
        "NBPROD_REGISTRY": "postgresql+psycopg://nbprod:secret@127.0.0.1:1/none"})
    assert proc.returncode == 4
    assert "cannot connect to registry" in proc.stderr
    assert "secret" not in proc.stderr
    assert "Traceback" not in proc.stderr


def test_job_versions_and_racing_promotions_on_postgres(tmp_path: Path, pg_url: str) -> None:
    import json
    import shutil
    import threading

    from nbprod import api
    from nbprod.api.jobs import build_job
    from nbprod.api.promotion import promote
    from nbprod.config import load_settings
    from nbprod.errors import Conflict
    from nbprod.jobs.spec import JobSpec, job_spec
    from nbprod.promote.gates import GateSet

    from ..conftest import DATA
    from .test_promotion import _policy, _Rendezvous

    root = tmp_path / "pgjobs"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(DATA.parent / "jobs" / "nbprod.toml", root / "nbprod.toml")
    for name in ("make", "use"):
        shutil.copy(DATA.parent / "jobs" / f"{name}.ipynb", root / "notebooks" / f"{name}.ipynb")
    settings = load_settings(root, env={"NBPROD_REGISTRY": pg_url})
    spec = job_spec(settings, "flow")
    with api.open_project(settings, {"NBPROD_USER": "root-admin"}) as admin:
        one = build_job(admin, spec).version.version
        assert build_job(admin, spec).version.version == one
        make = root / "notebooks" / "make.ipynb"
        data = json.loads(make.read_text())
        data["cells"].append({"cell_type": "markdown", "id": "pg", "metadata": {},
                              "source": "v2"})
        make.write_text(json.dumps(data))
        two = build_job(admin, spec).version.version
        assert two == one + 1
        promote(admin, spec, one, "dev")
        gates = GateSet({"rendezvous": _Rendezvous()})
        racing = JobSpec(name=spec.name, steps=spec.steps, stages=spec.stages,
                         promotion={"dev": _policy("rendezvous")})
        outcomes: list[object] = []

        def race(user: str) -> None:
            with api.open_project(settings, {"NBPROD_USER": user}) as project:
                try:
                    outcomes.append(promote(project, racing, two, "dev", gates=gates))
                except Conflict as exc:
                    outcomes.append(exc)

        threads = [threading.Thread(target=race, args=(u,)) for u in ("ann", "dan")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "PromotionOutcome"]
        entries = [e for e in admin.registry.jobs.audit("flow") if e.user in ("ann", "dan")]
        assert sorted(e.outcome for e in entries) == ["conflict", "ok"]


def test_lint_records_a_result_once_per_change_on_postgres(project_dir: Path,
                                                          pg_url: str) -> None:
    """The latest-result digests read from PostgreSQL: an unchanged re-lint adds nothing, a
    changed result (same notebook version) is added."""
    from nbprod.api import open_project
    from nbprod.api.lint import lint_notebooks
    from nbprod.config import load_settings
    from nbprod.lint.config import LintConfig

    notebook = project_dir / "ok.ipynb"
    with open_project(load_settings(project_dir, env={"NBPROD_REGISTRY": pg_url}),
                      {}) as project:
        def lint() -> int:
            return lint_notebooks(project, [notebook], LintConfig(), use_cache=False).recorded

        assert lint() == 1
        assert lint() == 0
        data = json.loads(notebook.read_text())
        next(c for c in data["cells"] if c["cell_type"] == "code")["outputs"] = [
            {"output_type": "stream", "name": "stdout", "text": "AKIAIOSFODNN7EXAMPLE\n"}]
        notebook.write_text(json.dumps(data))
        assert lint() == 1
        [newest, first] = project.registry.checks.latest(kind="lint", limit=5)
        assert newest.notebook_version == first.notebook_version
        assert newest.result_digest != first.result_digest
