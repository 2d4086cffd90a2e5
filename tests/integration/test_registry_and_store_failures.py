"""A locked registry and a full disk: one clear line, and nothing left inconsistent."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbprod import api
from nbprod.api import Project, RunRequest, open_project
from nbprod.config import load_settings
from nbprod.errors import RegistryError
from nbprod.registry import Registry
from nbprod.registry.schema import HEAD_REVISION

from ..conftest import run_cli
from .consistency import assert_consistent

pytestmark = pytest.mark.slow


def test_head_revision_matches_the_migration_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import nbprod.registry.db as db

    config = Config()
    config.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_registry_is_in_wal_mode(project: Project) -> None:
    project.registry.close()  # opened (and created) on first use
    path = project.root / ".nbprod" / "registry.db"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_locked_registry_is_one_line_and_exit_4(project_dir: Path) -> None:
    assert run_cli(project_dir, "runs").returncode == 0  # creates the registry
    holder = sqlite3.connect(project_dir / ".nbprod" / "registry.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        proc = run_cli(project_dir, "run", "ok.ipynb", env={"NBPROD_BUSY_TIMEOUT": "1"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 4
    assert "stayed locked by another process" in proc.stderr
    assert "Traceback" not in proc.stderr
    # after the lock is gone, the registry holds no half-written run
    with open_project(load_settings(project_dir, env={}), {}) as project:
        assert_consistent(project)


def test_locked_registry_error_from_the_library(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    Registry.open(url).close()
    holder = sqlite3.connect(tmp_path / "r.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        registry = Registry.open(url, busy_timeout=0.5)
        with pytest.raises(RegistryError, match="locked"):
            registry.heartbeat("nothing")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_fsync_failing_with_enospc_fails_the_run_as_infra(project: Project,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import nbprod.store.local as local

    real_fsync = local.os.fsync

    def full_for_the_report(fd: int) -> None:
        # The output notebook fits; the report does not. Chosen by the file, not by the
        # order of the calls: the two are written at once, on the runner's store threads.
        if ".report.html." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(local.os, "fsync", full_for_the_report)
    with pytest.raises(Exception, match="disk full"):
        api.run_notebook(project, RunRequest("ok.ipynb"))
    monkeypatch.setattr(local.os, "fsync", real_fsync)
    record = api.list_runs(project)[0]
    assert record.state == "failed"
    assert record.failure is not None and record.failure.kind == "infra"
    assert "disk full" in record.failure.message
    # what was committed before the store failed is kept and listed; the report is not
    assert sorted(a.name for a in record.artifacts) == ["files/out.txt", "notebook.ipynb"]
    assert not list((project.root / ".nbprod" / "artifacts").rglob("*.tmp"))
    assert_consistent(project)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB filesystem (tmpfs); skipped where mounting is not permitted."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_really_full_disk_is_one_line_and_keeps_the_registry_consistent(
        project_dir: Path, tiny_disk: Path) -> None:
    env = {"NBPROD_STORE": str(tiny_disk / "artifacts")}
    proc = run_cli(project_dir, "run", "ok.ipynb", env=env)
    assert proc.returncode == 4
    assert "disk full" in proc.stderr
    assert "Traceback" not in proc.stderr
    with open_project(load_settings(project_dir, env=env), {}) as project:
        record = api.list_runs(project)[0]
        assert record.state == "failed" and record.failure is not None
        assert record.failure.kind == "infra"
        assert_consistent(project)
    assert not [p for p in tiny_disk.rglob("*") if p.name.endswith(".tmp")]


def test_job_run_whose_runner_vanished_is_reaped_as_lost(tmp_path: Path) -> None:
    from nbprod.api.jobs import list_job_runs
    from nbprod.lineage import this_runner
    from nbprod.records import JobRun, RunnerIdentity, utcnow

    project_dir = tmp_path / "proj"
    project_dir.mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()  # a real process of this host that has exited
    with open_project(load_settings(project_dir, env={}), {}) as project:
        jobs = project.registry.jobs
        here = this_runner()
        for job_run_id, runner in (("jr-alive", here),
                                   ("jr-gone", RunnerIdentity(here.host, gone.pid, None)),
                                   ("jr-elsewhere", RunnerIdentity("another-host", 1, None))):
            jobs.create_run(JobRun(job_run_id, "flow", None, None, "running", utcnow()), runner)
        states = {r.job_run_id: r for r in list_job_runs(project, "flow")}
    assert states["jr-gone"].state == "lost"
    assert states["jr-gone"].failure is not None and states["jr-gone"].failure.kind == "lost"
    assert states["jr-alive"].state == "running"
    assert states["jr-elsewhere"].state == "running"  # no heartbeat to judge it by


def test_a_scratch_folder_that_cannot_be_made_is_an_infra_failure_and_leaves_no_thread(
        project: Project) -> None:
    import threading

    from nbprod.errors import InfraError

    project.work_dir.parent.mkdir(parents=True, exist_ok=True)
    project.work_dir.write_text("a file where the runs' scratch folders go")
    try:
        with pytest.raises(InfraError, match="cannot create the run's scratch folder") as raised:
            api.run_notebook(project, RunRequest("ok.ipynb"))
    finally:
        project.work_dir.unlink()
    assert "\n" not in raised.value.one_line()
    [record] = project.registry.list_runs()
    assert record.state == "failed" and record.failure is not None
    assert record.failure.kind == "infra" and "scratch folder" in record.failure.message
    for thread in threading.enumerate():  # the report's ends once its exporter is warm
        if thread.name.startswith(("nbprod-put", "nbprod-report", "nbprod-heartbeat")):
            thread.join(timeout=60)
            assert not thread.is_alive(), f"{thread.name} was left running"
    assert_consistent(project)
