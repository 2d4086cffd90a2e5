"""Templates start on demand, are listed and stopped, restart when stale, end when idle, and a
forked kernel never outlives the process that asked for it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import nbprod.kernels.client as client
import nbprod.lineage
from nbprod.api import Project
from nbprod.kernels.client import Template, running_templates, stop_templates, template_key

from ..conftest import run_cli, run_json
from .helpers import (
    assert_forked,
    assert_plain,
    ensure_template,
    process_gone,
    run,
    succeeded,
    template_for,
    template_pid,
    wait_for,
    write_notebook,
)

pytestmark = pytest.mark.slow


def bump_mtime(path: Path, seconds: int = 5) -> None:
    later = path.stat().st_mtime_ns + seconds * 10**9
    os.utime(path, ns=(later, later))


def template_processes(template: Template) -> list[int]:
    """Live forkserver processes started for this template's key and socket."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"nbprod.kernels.forkserver" in argv and template.key.encode() in argv and \
                str(template.socket_path).encode() in argv and not process_gone(int(entry.name)):
            found.append(int(entry.name))
    return found


def test_ensure_lists_and_stop_templates(fresh_runtime_dir: Path) -> None:
    json_template = Template.for_modules(["json"])
    csv_template = Template.for_modules(["csv"])
    assert not json_template.alive()
    assert json_template.ensure(wait=True, idle=120)
    assert csv_template.ensure(wait=True, idle=120)
    listed = {data["key"]: data for data in running_templates()}
    assert set(listed) == {json_template.key, csv_template.key}
    info = listed[json_template.key]
    assert "json" in info["preload"] and "csv" not in info["preload"]
    assert info["failed"] == {} and info["kernels"] == 0
    assert info["python"] == sys.executable
    pid = int(info["pid"])
    assert not process_gone(pid)
    assert json_template.socket_path.exists() and json_template.info_path.exists()

    assert stop_templates(json_template.key) == 1
    wait_for(lambda: process_gone(pid), 10, "the stopped template to exit")
    assert not json_template.alive()
    assert not json_template.socket_path.exists() and not json_template.info_path.exists()
    assert [d["key"] for d in running_templates()] == [csv_template.key]
    assert stop_templates() == 1
    assert running_templates() == []


def test_ensure_of_a_running_template_is_immediate(fresh_runtime_dir: Path) -> None:
    template = Template.for_modules(["json"])
    assert template.ensure(wait=True, idle=120)
    pid = template_pid(template)
    started = time.monotonic()
    assert template.ensure(wait=False) is True
    assert time.monotonic() - started < 1.0
    assert template_pid(template) == pid
    assert Template.for_modules(["json", "json"]).key == template.key


def test_cli_lists_and_stops_templates(fresh_runtime_dir: Path, tmp_path: Path) -> None:
    template = Template.for_modules(["json"])
    assert template.ensure(wait=True, idle=120)
    pid = template_pid(template)
    assert pid is not None

    code, listed = run_json(tmp_path, "kernels", "list")
    assert code == 0
    [entry] = [t for t in listed["templates"] if t["key"] == template.key]
    assert entry["pid"] == pid and "json" in entry["preload"]
    table = run_cli(tmp_path, "kernels", "list")
    assert table.returncode == 0 and "json" in table.stdout, table.stdout

    code, stopped = run_json(tmp_path, "kernels", "stop")
    assert (code, stopped["templates"]) == (0, 1)
    wait_for(lambda: process_gone(pid), 10, "the stopped template to exit")
    code, listed = run_json(tmp_path, "kernels", "list")
    assert (code, listed["templates"]) == (0, [])


def test_template_key_follows_a_preloaded_modules_file(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "nbk_keymod.py"
    module.write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before, json_before = template_key(["nbk_keymod"]), template_key(["json"])
    assert template_key(["nbk_keymod"]) == before  # stable while nothing changes
    assert Template.for_modules(["json", "nbk_keymod", "json"]).key == \
        Template.for_modules(["nbk_keymod", "json"]).key
    bump_mtime(module)
    assert template_key(["nbk_keymod"]) != before
    assert template_key(["json"]) == json_before


def test_template_key_follows_environment_and_forkserver(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    before = template_key(["json"])
    monkeypatch.setattr(nbprod.lineage, "environment_key", lambda: "another-environment")
    assert template_key(["json"]) != before
    monkeypatch.undo()
    assert template_key(["json"]) == before

    fake = tmp_path / "kernels"
    fake.mkdir()
    (fake / "forkserver.py").write_text("# a copy\n")
    monkeypatch.setattr(client.forkserver, "__file__", str(fake / "forkserver.py"))
    copied = template_key(["json"])
    bump_mtime(fake / "forkserver.py")
    assert template_key(["json"]) != copied


def test_template_key_follows_a_preloaded_submodules_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "nbk_keypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "sub.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = template_key(["nbk_keypkg.sub"])
    bump_mtime(package / "sub.py")
    assert template_key(["nbk_keypkg.sub"]) != before


def test_stale_template_is_replaced(fresh_runtime_dir: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "nbk_stalemod.py"
    module.write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # for the template process
    other = Template.for_modules(["json"])
    assert other.ensure(wait=True, idle=120)
    old = Template.for_modules(["nbk_stalemod"])
    assert old.ensure(wait=True, idle=120)
    old_pid = template_pid(old)
    assert old_pid is not None
    info = next(d for d in running_templates() if d["key"] == old.key)
    assert "nbk_stalemod" in info["preload"] and info["failed"] == {}

    bump_mtime(module)
    new = Template.for_modules(["nbk_stalemod"])
    assert new.key != old.key
    assert new.ensure(wait=True, idle=120)
    wait_for(lambda: process_gone(old_pid), 10, "the stale template to stop")
    assert {d["key"] for d in running_templates()} == {new.key, other.key}


def test_idle_template_exits_and_cleans_up(fresh_runtime_dir: Path) -> None:
    template = Template.for_modules(["json"])
    assert template.ensure(wait=True, idle=1.0)
    pid = template_pid(template)
    assert pid is not None
    wait_for(lambda: process_gone(pid), 15, "the idle template to exit")
    assert not template.socket_path.exists() and not template.info_path.exists()
    assert running_templates() == []


def test_killed_template_is_forgotten_and_restarted(fresh_runtime_dir: Path) -> None:
    template = Template.for_modules(["json"])
    assert template.ensure(wait=True, idle=120)
    pid = template_pid(template)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: process_gone(pid), 10, "the killed template to exit")
    assert not template.alive()
    assert running_templates() == []
    assert not template.info_path.exists() and not template.socket_path.exists()
    assert template.ensure(wait=True, idle=120)
    assert template_pid(template) not in (None, pid)


def test_ensure_while_starting_starts_one_template(fresh_runtime_dir: Path) -> None:
    """A second caller while the first template still imports (two runs starting at once)
    must not start a second template of the same key: it would orphan the first one."""
    template = Template.for_modules(["json"])
    try:
        assert template.ensure(wait=False, idle=30) is False
        template.ensure(wait=False, idle=30)  # a second caller while the first still imports
        assert template.ensure(wait=True, idle=30)
        time.sleep(0.5)  # a duplicate would still be running (it exits only when idle)
        assert len(template_processes(template)) == 1, template_processes(template)
        assert len(running_templates()) == 1
    finally:
        for pid in template_processes(template):
            os.kill(pid, signal.SIGTERM)


def test_first_run_without_waiting_is_plain_then_runs_fork(project: Project, project_dir: Path,
                                                           fresh_runtime_dir: Path) -> None:
    path = write_notebook(project_dir / "nb" / "first.ipynb", "import json")
    first = succeeded(run(project, path, wait=False))
    assert_plain(first)
    assert first.note is None
    wait_for(template_for(path).alive, 60, "the template started by the first run")
    second = succeeded(run(project, path, wait=False))
    assert_forked(second, path)


def test_run_survives_its_template_dying(project: Project, project_dir: Path) -> None:
    path = write_notebook(project_dir / "nb" / "orphan.ipynb", """
        import os, signal
        if os.getppid() == template:
            os.kill(template, signal.SIGKILL)
        """, "_nbprod.record('after', True)", parameters="template: int = 0")
    template = ensure_template(path)
    record = succeeded(run(project, path, params={"template": template}))
    assert record.values["kernel.ppid"] == template and record.values["after"] is True
    assert process_gone(template)
    wait_for(lambda: process_gone(record.values["kernel.pid"]), 10, "the kernel to exit")
    again = succeeded(run(project, path))  # a new template
    assert_forked(again, path)
    assert again.values["kernel.ppid"] != template


def test_kernel_exits_when_its_caller_is_killed(project_dir: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "kernel.pids"
    path = write_notebook(project_dir / "nb" / "sleeper.ipynb", """
        import os, time
        with open(pid_file + '.tmp', 'w') as handle:
            handle.write(f'{os.getpid()} {os.getppid()}')
        os.replace(pid_file + '.tmp', pid_file)
        time.sleep(120)
        """, parameters=f"pid_file: str = {str(pid_file)!r}")
    template = ensure_template(path)  # so the run forks instead of starting it
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBPROD_")}
    env["NBPROD_WARM"] = "0"  # the runner is the process we kill, not a warm nbprod's child
    with (tmp_path / "runner.log").open("wb") as log:
        runner = subprocess.Popen([sys.executable, "-m", "nbprod", "run", str(path)],
                                  cwd=project_dir, env=env, stdout=log, stderr=log)
    try:
        wait_for(lambda: pid_file.exists() or runner.poll() is not None, 60,
                 "the kernel to start")
        assert runner.poll() is None, (tmp_path / "runner.log").read_text()
        kernel, parent = map(int, pid_file.read_text().split())
        assert parent == template  # forked
        assert next(d for d in running_templates() if d["pid"] == template)["kernels"] == 1
        runner.kill()
        runner.wait(timeout=10)
        wait_for(lambda: process_gone(kernel), 10, "the kernel of the killed runner to exit")
        wait_for(lambda: next(d for d in running_templates()
                              if d["pid"] == template)["kernels"] == 0, 5,
                 "the template to reap the kernel")
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    assert template_for(path).alive()
