"""Failures on the fast path end exactly as they do in plain kernels: same kind, cell,
exception, exit status; the kernel and what it started are gone when the run ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbprod.api import Project
from nbprod.records import RunRecord

from .helpers import (
    assert_forked,
    assert_plain,
    process_gone,
    project_with_env,
    run,
    wait_for,
    write_notebook,
)

pytestmark = pytest.mark.slow

FAST_AND_PLAIN = pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])


def check_kernel(record: RunRecord, path: Path, fast: bool) -> None:
    if fast:
        assert_forked(record, path)
    else:
        assert_plain(record)
    wait_for(lambda: process_gone(record.values["kernel.pid"]), 10, "the kernel to be gone")


@FAST_AND_PLAIN
def test_cell_error(project: Project, project_dir: Path, fast: bool) -> None:
    path = write_notebook(project_dir / "nb" / "error.ipynb", "x = 1",
                          "raise ValueError(f'bad {tag}')", "_nbprod.record('after', True)")
    record = run(project, path, fast=fast, params={"tag": "input"})
    assert record.state == "failed" and record.failure is not None
    failure = record.failure
    assert (failure.kind, failure.cell_index) == ("cell_error", 3)  # params 0, probe 1, x 2
    assert (failure.ename, failure.evalue) == ("ValueError", "bad input")
    assert "after" not in record.values
    assert record.artifact("notebook.ipynb") is not None
    check_kernel(record, path, fast)


@FAST_AND_PLAIN
def test_kernel_killed_by_a_signal(project: Project, project_dir: Path, fast: bool) -> None:
    path = write_notebook(project_dir / "nb" / "sigkill.ipynb",
                          "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    record = run(project, path, fast=fast)
    assert record.state == "failed" and record.failure is not None
    failure = record.failure
    assert (failure.kind, failure.signal, failure.cell_index) == ("kernel_died", "SIGKILL", 2)
    assert failure.exit_code == -9
    assert "SIGKILL" in failure.message
    check_kernel(record, path, fast)


@FAST_AND_PLAIN
def test_kernel_exiting_with_a_code(project: Project, project_dir: Path, fast: bool) -> None:
    path = write_notebook(project_dir / "nb" / "exit3.ipynb", "import os\nos._exit(3)")
    record = run(project, path, fast=fast)
    assert record.state == "failed" and record.failure is not None
    failure = record.failure
    assert (failure.kind, failure.exit_code, failure.signal) == ("kernel_died", 3, None)
    assert failure.cell_index == 2
    check_kernel(record, path, fast)


SLEEPER = """
    import os, subprocess, time
    child = subprocess.Popen(['sleep', '300'])
    _nbprod.record('child', child.pid)
    """


@FAST_AND_PLAIN
def test_cell_timeout_kills_kernel_and_children(project: Project, project_dir: Path,
                                                fast: bool) -> None:
    path = write_notebook(project_dir / "nb" / "cell_timeout.ipynb", SLEEPER, "time.sleep(60)")
    record = run(project, path, fast=fast, cell_timeout=1)
    assert record.state == "failed" and record.failure is not None
    failure = record.failure
    assert (failure.kind, failure.cell_index) == ("timeout", 3)
    assert "--cell-timeout" in failure.message
    check_kernel(record, path, fast)
    wait_for(lambda: process_gone(record.values["child"]), 10, "the kernel's child to be gone")


@FAST_AND_PLAIN
def test_run_timeout_kills_kernel_and_children(project: Project, project_dir: Path,
                                               fast: bool) -> None:
    path = write_notebook(project_dir / "nb" / "run_timeout.ipynb", SLEEPER, "time.sleep(60)")
    record = run(project, path, fast=fast, cell_timeout=60, timeout=2)
    assert record.state == "failed" and record.failure is not None
    failure = record.failure
    assert (failure.kind, failure.cell_index) == ("timeout", 3)
    assert "--timeout" in failure.message
    check_kernel(record, path, fast)
    wait_for(lambda: process_gone(record.values["child"]), 10, "the kernel's child to be gone")


@FAST_AND_PLAIN
def test_success_leaves_no_kernel_or_child(project_dir: Path, fast: bool) -> None:
    # ipykernel's own shutdown waits ~14 s for a child it signalled but cannot reap (the
    # zombie `sleep`); nbprod kills the kernel's group after shutdown_timeout.
    with (project_dir / "nbprod.toml").open("a") as config:
        config.write("shutdown_timeout = 1\n")
    path = write_notebook(project_dir / "nb" / "ok_child.ipynb", SLEEPER)
    with project_with_env(project_dir) as project:
        record = run(project, path, fast=fast)
    assert record.state == "succeeded", record.failure
    check_kernel(record, path, fast)
    wait_for(lambda: process_gone(record.values["child"]), 10, "the kernel's child to be gone")


@FAST_AND_PLAIN
def test_kernel_output_is_kept_in_kernel_log_of_a_failed_run(project: Project,
                                                             project_dir: Path,
                                                             fast: bool) -> None:
    path = write_notebook(project_dir / "nb" / "stderr.ipynb", """
        import os
        os.write(2, b'nbk-fd2-marker\\n')
        raise RuntimeError('after writing to fd 2')
        """)
    record = run(project, path, fast=fast)
    assert record.state == "failed" and record.failure is not None
    assert record.failure.kind == "cell_error"
    check_kernel(record, path, fast)
    log = record.artifact("kernel.log")
    assert log is not None
    assert "nbk-fd2-marker" in Path(log.location).read_text()
