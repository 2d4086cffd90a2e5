"""One template per key: concurrent starts, stops and stale listings never orphan a template."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nbprod.kernels.client import Template, running_templates
from nbprod.kernels.forkserver import owned

pytestmark = pytest.mark.slow

# A module the base template does not import, so the key is this test's own.
MODULES = ["email.mime.text"]
ENSURE = ("from nbprod.kernels.client import Template\n"
          f"assert Template.for_modules({MODULES!r}).ensure(wait=True)\n")


def template_pids(folder: Path) -> list[int]:
    found = subprocess.run(["pgrep", "-f", f"nbprod.kernels.forkserver --socket {folder}"],
                           capture_output=True, text=True, check=False)
    return [int(pid) for pid in found.stdout.split()]


def test_concurrent_starts_leave_exactly_one_template(fresh_runtime_dir: Path) -> None:
    starters = [subprocess.Popen([sys.executable, "-c", ENSURE], env=os.environ.copy())
                for _ in range(4)]
    assert [p.wait(timeout=120) for p in starters] == [0, 0, 0, 0]
    time.sleep(0.5)  # a loser of the race would still be running now; it exits at once
    assert len(template_pids(fresh_runtime_dir)) == 1
    assert len(running_templates()) == 1


def test_stop_waits_for_the_template_and_frees_its_key(fresh_runtime_dir: Path) -> None:
    template = Template.for_modules(MODULES)
    assert template.ensure(wait=True)
    assert owned(template.socket_path)
    template.stop()
    assert not owned(template.socket_path)
    assert template_pids(fresh_runtime_dir) == []
    assert not template.socket_path.exists() and not template.info_path.exists()
    assert template.ensure(wait=True)  # the key can start again


def test_a_template_that_does_not_answer_keeps_its_socket(fresh_runtime_dir: Path) -> None:
    template = Template.for_modules(MODULES)
    assert template.ensure(wait=True)
    pid = template_pids(fresh_runtime_dir)[0]
    os.kill(pid, 19)  # SIGSTOP: alive, holding its key, but silent
    try:
        assert running_templates() == []  # not listed while it does not answer ...
        assert template.socket_path.exists()  # ... but its socket is not pulled away
        assert not template.ensure(wait=False)  # and no second template starts beside it
        time.sleep(0.5)
        assert template_pids(fresh_runtime_dir) == [pid]
    finally:
        os.kill(pid, 18)  # SIGCONT
    assert template.alive()


def test_import_time_environment_is_part_of_the_template_key(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from nbprod.kernels.client import template_key

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    base = template_key(MODULES)
    monkeypatch.setenv("NBPROD_USER", "someone-else")  # read at run time: same template
    assert template_key(MODULES) == base
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # read when numpy is imported: a new template
    assert template_key(MODULES) != base
