"""Faults: kernels that die, hang, eat memory or never answer; runners killed mid-write;
stores and registries that fail under a run."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import require, require_root, run_json, write_notebook
from .conftest import assert_nothing_left

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("NBPROD_")}


@pytest.mark.case("kernel SIGKILL")
def test_kernel_sigkill(project_dir: Path, registry_env: dict[str, str], seen) -> None:  # type: ignore[no-untyped-def]
    write_notebook(project_dir / "die.ipynb", None, "print('alive')",
                   "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    code, record = run_json(project_dir, "run", "die.ipynb", env=registry_env)
    failure = record["failure"]
    seen(f"{record['state']}/{failure['kind']} {failure['signal']}, exit {code}")
    assert (code, record["state"], failure["kind"], failure["signal"]) == \
        (3, "failed", "kernel_died", "SIGKILL")
    assert failure["message"] == "the kernel was killed by SIGKILL while running cell 1"
    assert run_json(project_dir, "show", record["run_id"], "--verify",
                    env=registry_env)[0] == 0
    assert_nothing_left(record["run_id"])


@pytest.mark.case("kernel over a memory limit (RLIMIT_AS)")
def test_kernel_over_rlimit_as(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    write_notebook(project_dir / "rlimit.ipynb", None,
                   "import resource\nresource.setrlimit(resource.RLIMIT_AS, (2**31, 2**31))",
                   "big = bytearray(2**32)")
    code, record = run_json(project_dir, "run", "rlimit.ipynb")
    failure = record["failure"]
    seen(f"{record['state']}/{failure['kind']} {failure['ename']}, exit {code}")
    assert code == 3 and failure["ename"] == "MemoryError"
    assert "the kernel ran out of memory" in failure["message"]
    assert_nothing_left(record["run_id"])


@pytest.mark.case("infinite loop")
def test_infinite_loop(project_dir: Path, registry_env: dict[str, str], seen) -> None:  # type: ignore[no-untyped-def]
    write_notebook(project_dir / "loop.ipynb", None, "while True:\n    pass")
    code, record = run_json(project_dir, "run", "loop.ipynb", "--cell-timeout", "3",
                            env=registry_env)
    failure = record["failure"]
    seen(f"{record['state']}/{failure['kind']}, exit {code}")
    assert (code, failure["kind"]) == (3, "timeout")
    assert failure["message"] == "cell 0 did not finish within 3 s (--cell-timeout)"
    assert_nothing_left(record["run_id"])


def _kernelspec(folder: Path, name: str, argv: list[str] | None, text: str | None = None
                ) -> dict[str, str]:
    spec = folder / "share" / "jupyter" / "kernels" / name
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(text if text is not None else json.dumps(
        {"argv": argv, "display_name": name, "language": "python"}))
    return {"JUPYTER_PATH": str(folder / "share" / "jupyter")}


@pytest.mark.case("kernel that never answers kernel_info")
def test_kernel_that_never_answers(project_dir: Path, tmp_path: Path, seen) -> None:  # type: ignore[no-untyped-def]
    env = _kernelspec(tmp_path, "mute", [sys.executable, "-c",
                                         "import time; time.sleep(600)", "{connection_file}"])
    started = time.monotonic()
    code, record = run_json(project_dir, "run", "ok.ipynb", "--kernel", "mute",
                            "--start-timeout", "3", env=env)
    failure = record["failure"]
    seen(f"{record['state']}/{failure['kind']} after {time.monotonic() - started:.0f} s, "
         f"exit {code}")
    assert (code, failure["kind"]) == (4, "infra")
    assert failure["message"].startswith("kernel 'mute' did not start")
    assert_nothing_left(record["run_id"])


@pytest.mark.case("broken kernelspec")
def test_broken_kernelspec(project_dir: Path, tmp_path: Path, seen) -> None:  # type: ignore[no-untyped-def]
    env = _kernelspec(tmp_path, "nosuchbinary", ["/nonexistent/python", "-m", "ipykernel",
                                                 "-f", "{connection_file}"])
    code, record = run_json(project_dir, "run", "ok.ipynb", "--kernel", "nosuchbinary",
                            "--start-timeout", "5", env=env)
    failure = record["failure"]
    seen(f"{record['state']}/{failure['kind']}, exit {code}")
    assert (code, failure["kind"]) == (2, "invalid_input")
    assert failure["message"] == ("kernel 'nosuchbinary' cannot start: No such file or "
                                  "directory: /nonexistent/python; fix its kernelspec "
                                  "(`jupyter kernelspec list` shows where it is) or pass --kernel")


def _start_runner(project_dir: Path, notebook: str, env: dict[str, str] | None = None
                  ) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "nbprod", "run", notebook],
                            cwd=project_dir, env={**_env(), **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(predicate, what: str, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _lost_and_consistent(project_dir: Path, registry_env: dict[str, str]) -> dict[str, object]:
    code, runs = run_json(project_dir, "runs", env=registry_env)
    assert code == 0 and len(runs) == 1, runs
    record = runs[0]
    assert record["state"] == "lost"
    assert run_json(project_dir, "show", record["run_id"], "--verify",
                    env=registry_env)[0] == 0  # every recorded artifact is whole
    assert_nothing_left(record["run_id"])
    return record  # type: ignore[no-any-return]


@pytest.mark.case("runner killed during artifact write")
def test_runner_killed_during_artifact_write(project_dir: Path, registry_env: dict[str, str],
                                             seen) -> None:  # type: ignore[no-untyped-def]
    write_notebook(project_dir / "big.ipynb", None,
                   "import nbprod, os\n"
                   "with open(nbprod.output_path('big.bin'), 'wb') as f:\n"
                   "    f.write(os.urandom(300 * 2**20))")
    runner = _start_runner(project_dir, "big.ipynb", registry_env)
    store = project_dir / ".nbprod" / "artifacts" / "runs"
    _wait_for(lambda: any(store.glob("*/files/.big.bin.*.tmp")), "the artifact write")
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    record = _lost_and_consistent(project_dir, registry_env)
    seen(f"lost, {len(record['artifacts'])} artifacts recorded, verify ok")  # type: ignore[arg-type]
    assert not (store / str(record["run_id"]) / "files" / "big.bin").exists()


@pytest.mark.case("runner killed during the final commit")
def test_runner_killed_during_final_commit(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    write_notebook(project_dir / "quick.ipynb", None, "import time\ntime.sleep(2)")
    database = project_dir / ".nbprod" / "registry.db"
    assert run_json(project_dir, "runs")[0] == 0  # the registry exists
    runner = _start_runner(project_dir, "quick.ipynb", {"NBPROD_BUSY_TIMEOUT": "120"})

    def running() -> bool:
        with sqlite3.connect(database) as conn:
            return conn.execute("SELECT count(*) FROM runs WHERE state = 'running'"
                                ).fetchone()[0] == 1

    _wait_for(running, "the running row")
    lock = sqlite3.connect(database, timeout=60)
    lock.execute("BEGIN IMMEDIATE")  # the final commit will wait on the busy timeout
    store = project_dir / ".nbprod" / "artifacts" / "runs"
    try:
        _wait_for(lambda: any(store.glob("*/record.json")), "record.json (the last artifact)")
        time.sleep(0.5)  # the runner is now inside the final transaction, waiting
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    finally:
        lock.rollback()
        lock.close()
    record = _lost_and_consistent(project_dir, {})
    seen(f"lost, registry has {len(record['artifacts'])} artifacts, verify ok")  # type: ignore[arg-type]


@pytest.mark.case("disk full on the store")
def test_disk_full_on_the_store(project_dir: Path, tmp_path: Path,
                                registry_env: dict[str, str], seen) -> None:  # type: ignore[no-untyped-def]
    require_root("mount a small tmpfs as a full disk")
    disk = tmp_path / "small"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
                             capture_output=True, text=True, check=False)
    require(mounted.returncode == 0, f"a tmpfs mount ({mounted.stderr.strip()})")
    try:
        write_notebook(project_dir / "fill.ipynb", None,
                       "import nbprod\nwith open(nbprod.output_path('blob.bin'), 'wb') as f:\n"
                       "    f.write(b'x' * 2**20)")
        store_env = {**registry_env, "NBPROD_STORE": str(disk / "store")}
        code, out = run_json(project_dir, "run", "fill.ipynb", env=store_env)
        _, runs = run_json(project_dir, "runs", env=store_env)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
    [record] = runs
    failure = record["failure"]
    seen(f"error exit {code}; run {record['state']}/{failure['kind']}")
    assert code == 4 and "disk full writing artifact" in out["error"]["message"]
    assert (record["state"], failure["kind"]) == ("failed", "infra")
    assert "disk full writing artifact" in failure["message"]


@pytest.mark.case("SQLite locked for longer than the busy timeout")
def test_sqlite_locked(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    assert run_json(project_dir, "runs")[0] == 0
    lock = sqlite3.connect(project_dir / ".nbprod" / "registry.db")
    lock.execute("BEGIN IMMEDIATE")
    try:
        code, out = run_json(project_dir, "run", "ok.ipynb", env={"NBPROD_BUSY_TIMEOUT": "1"})
    finally:
        lock.rollback()
        lock.close()
    seen(f"{out['error']['type']}, exit {code}")
    assert code == 4 and "stayed locked by another process past the busy timeout" in \
        out["error"]["message"]
    code, runs = run_json(project_dir, "runs")
    assert code == 0 and all(r["state"] != "running" for r in runs)
