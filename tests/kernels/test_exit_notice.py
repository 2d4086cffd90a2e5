"""A forked kernel says that its work is done just before it exits (nbprod/kernels/notice.py):
the runner stores what it wrote from then on, while the process ends, and waits for that end
only before the run returns; one that never says so is killed when the shutdown timeout
passes. And a kernel's shutdown looks for children to stop only when it has some
(nbprod/kernels/child.py; tests/kernels/test_final_states.py stops a child left running)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbprod.api import Project
from nbprod.kernels import notice

from .helpers import (
    assert_forked,
    process_gone,
    project_with_env,
    run,
    succeeded,
    write_notebook,
)

pytestmark = pytest.mark.slow

SENDER = "import sys, time\nfrom nbprod.kernels import notice\nnotice.send(sys.argv[1])\n" \
         "time.sleep(60)"


@contextlib.contextmanager
def _listening_to(tmp_path: Path, code: str,
                  *args: str) -> Iterator[tuple[socket.socket, subprocess.Popen[bytes], int]]:
    """The runner's notice socket in ``tmp_path``, a child running ``code``, its pidfd."""
    sock = notice.listen(tmp_path)
    assert sock is not None
    child = subprocess.Popen([sys.executable, "-c", code, *args])
    pidfd = os.pidfd_open(child.pid)
    try:
        yield sock, child, pidfd
    finally:
        child.kill()
        child.wait()
        os.close(pidfd)
        sock.close()


def test_the_wait_ends_at_the_notice_while_the_sender_still_runs(tmp_path: Path) -> None:
    with _listening_to(tmp_path, SENDER, str(tmp_path / "exit")) as (sock, child, pidfd):
        assert notice.wait(sock, pidfd, time.monotonic() + 30) == "notice"
        assert child.poll() is None  # still running: what ended the wait was its word


def test_the_wait_ends_when_the_kernel_ends_without_a_notice(tmp_path: Path) -> None:
    with _listening_to(tmp_path, "import os; os._exit(3)") as (sock, _child, pidfd):
        assert notice.wait(sock, pidfd, time.monotonic() + 30) == "ended"


def test_the_wait_gives_up_at_its_deadline(tmp_path: Path) -> None:
    with _listening_to(tmp_path, "import time; time.sleep(60)") as (sock, child, pidfd):
        assert notice.wait(sock, pidfd, time.monotonic() + 0.3) is None
        assert child.poll() is None


def test_no_socket_where_its_path_would_be_too_long(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120)
    deep.mkdir()
    assert notice.listen(deep) is None  # the runner then waits for the kernel's end
    notice.send(str(deep / "exit"))  # and a kernel told such a path does not fail


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_a_forked_run_stores_its_files_after_the_notice_and_ends_its_kernel(
        project: Project, project_dir: Path, monkeypatch: Any, fast: bool) -> None:
    answers: list[str | None] = []
    real = notice.wait

    def spy(*args: Any) -> str | None:
        answers.append(real(*args))
        return answers[-1]

    monkeypatch.setattr(notice, "wait", spy)
    path = write_notebook(project_dir / "nb" / "notice.ipynb", """
        import atexit
        handle = open(_nbprod.output_path('late.txt'), 'w')  # left open: flushed at exit
        handle.write('written before the exit')
        atexit.register(lambda: open(_nbprod.output_path('atexit.txt'), 'w').write('ran'))
        _nbprod.record('kernel_pid', _os.getpid())
        """)
    record = succeeded(run(project, path, fast=fast))
    if fast:
        assert_forked(record, path)
    assert answers == (["notice"] if fast else [])  # a plain kernel is waited for
    for name, text in (("files/late.txt", "written before the exit"),
                       ("files/atexit.txt", "ran")):
        artifact = record.artifact(name)
        assert artifact is not None, [a.name for a in record.artifacts]
        assert Path(artifact.location).read_text() == text
    assert process_gone(int(record.values["kernel_pid"]))  # ended before the run returned


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_a_kernel_that_hangs_in_its_exit_is_killed_after_the_shutdown_timeout(
        project_dir: Path, fast: bool) -> None:
    with (project_dir / "nbprod.toml").open("a") as config:
        config.write("shutdown_timeout = 1\n")
    path = write_notebook(project_dir / "nb" / "hangs.ipynb", """
        import atexit, time
        atexit.register(time.sleep, 600)  # no notice, no end: killed
        _nbprod.record('kernel_pid', _os.getpid())
        """)
    started = time.monotonic()
    with project_with_env(project_dir) as project:
        record = succeeded(run(project, path, fast=fast))
    assert time.monotonic() - started < 120  # not the 600 s the exit would take
    assert process_gone(int(record.values["kernel_pid"]))


def test_children_are_looked_up_only_when_a_thread_has_one(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import subprocess, threading
        from nbprod.kernels.child import _may_have_children
        print(_may_have_children())
        box = []
        thread = threading.Thread(target=lambda: box.append(subprocess.Popen(['sleep', '60'])))
        thread.start(); thread.join()  # a child of another thread counts too
        print(_may_have_children())
        box[0].kill(); box[0].wait()
        print(_may_have_children())
        """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out == ["False", "True", "False"]
