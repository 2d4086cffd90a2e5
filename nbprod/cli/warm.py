"""The warm nbprod: a process that has imported everything once and forks a child per command.

    python -m nbprod.cli.warm --key KEY        (started by :mod:`nbprod.cli.launch`)

It imports the CLI, every command, the API, papermill, nbclient, SQLAlchemy and nbconvert,
builds the HTML exporter, freezes the garbage collector's view of all that, and serves the
launcher's requests on a per-user Unix socket. For each request it forks; the child takes the
caller's terminal file descriptors, arguments, working directory, environment and umask, runs
the command through the same ``run_cli`` as an ordinary process, reports the exit code and
exits. It keeps no database connection open (the one it warms the registry code with is
closed before it serves), starts no thread and creates no event loop itself, so forking it
is safe. The child exits at once when its caller disappears (the caller's end of
the socket closes), which leaves a run it was executing ``lost``, as with an ordinary process.
It exits by itself after ``--idle`` seconds without requests, and when its key is stale.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import select
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ..rundir import same_user
from .launch import runtime_dir, socket_path, warm_key
from .spare import Spare
from .spare import start as start_spare


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--key", required=True)
    parser.add_argument("--idle", type=float, default=float(
        os.environ.get("NBPROD_WARM_IDLE", "900")))
    args = parser.parse_args(argv)
    if sys.path and sys.path[0] in ("", os.getcwd()):
        sys.path.pop(0)
    _preload()
    gc.collect()
    gc.freeze()
    _serve(args.key, args.idle)


def _preload() -> None:
    import importlib

    from .main import COMMANDS, cli  # noqa: F401

    for target in COMMANDS.values():
        importlib.import_module(target.split(":")[0])
    for module in ("nbprod.api.runs", "nbprod.api.cache", "nbprod.api.jobs",
                   "nbprod.api.promotion", "nbprod.api.lint", "nbprod.api.testing",
                   "nbprod.execute.engine", "nbprod.registry", "nbprod.lint.engine",
                   "nbprod.validate.regression", "rich.progress", "rich.table",
                   # imported on first use by every command that reads the registry or runs
                   # a notebook (SQLAlchemy loads a dialect when an engine is created):
                   # 30-40 ms of a cache hit otherwise
                   "sqlalchemy.dialects.sqlite", "nbprod.monitor.checks", "nbprod.api.runlist",
                   "rich._emoji_codes",
                   # what a run imports when it chooses and starts a forked kernel: ~11 ms
                   # of each `nbprod run` otherwise (eleven modules, in a fresh fork)
                   "nbprod.execute.fast", "nbprod.kernels.provisioner",
                   "nbprod.kernels.fastclient"):
        importlib.import_module(module)
    from ..execute.report import warm_exporter

    warm_exporter()
    # nbformat compiles its schema validators on first use (0.1-0.3 s): read one notebook
    # here, so every command that reads notebooks (run, lint, a --cache hit) finds them built.
    from ..notebook._nbformat import nbformat
    from ..notebook.load import parse_notebook

    parse_notebook(nbformat.writes(nbformat.v4.new_notebook()), "warm-up.ipynb")
    from ..lint.schema import schema_error

    schema_error(nbformat.v4.new_notebook())  # and lint's own (per cell type)
    # jupyter_client's provisioner factory (a singleton) reads every installed distribution's
    # entry points when a kernelspec is first looked up: ~20 ms of each run otherwise. The
    # warm nbprod is replaced when the installed packages change, and the factory with it.
    from jupyter_client.provisioning.factory import KernelProvisionerFactory

    KernelProvisionerFactory.instance()
    _warm_registry()
    from ..execute.outputs import output_node
    from ..lint.catalog import GROUP as RULES
    from ..plugins import group
    from ..promote.gates import GROUP as GATES

    for name in (RULES, GATES):  # the installed plugins, re-read when an install changes
        group(name)

    output_node({"header": {"msg_type": "stream"}, "content": {"name": "stdout", "text": ""}})


_MIGRATED: bytes = b""  # the rehearsal's registry, at the head revision (for the spares)


def _warm_registry() -> None:
    """A run's registry work once, on a throwaway database closed and removed before any
    fork (no connection crosses it): SQLAlchemy's first use in a process (the dialect's
    set-up, each kind of statement's first compilation, the column types' processors) is done
    for every command, not again in each."""
    global _MIGRATED

    _MIGRATED = rehearse_registry(b"")


def _rehearse() -> None:
    """A spare's rehearsal (see spare.py): what commands do that needs no project."""
    rehearse_registry(_MIGRATED)
    from ..execute.report import rehearse_report

    rehearse_report()


def rehearse_registry(database: bytes) -> bytes:
    """What a run asks of the registry, on a throwaway SQLite file (``database``: its bytes
    to start from, empty for a new one, migrated here); returns the file as it was after the
    migration. Nothing is left open or on disk."""
    import datetime as dt
    import tempfile

    from ..records import Lineage, RunnerIdentity, RunRecord, new_run_id
    from ..registry import Registry
    from ..registry.db import _create_engine, migrate

    with tempfile.TemporaryDirectory(prefix="nbprod-warm-") as folder:
        path = Path(folder) / "registry.db"
        if database:
            path.write_bytes(database)
        url = f"sqlite:///{path}"
        engine = _create_engine(url, 1.0)  # not db.connect's: that one would keep it
        try:
            migrate(engine)
            engine.dispose()
            migrated = path.read_bytes()
            registry = Registry(engine, url)
            now = dt.datetime.now(dt.UTC)
            run_id = new_run_id(now)
            registry.latest_run_id("warm-up.ipynb")
            registry.record_environment("0" * 16, "3", ["nbprod==0"])
            registry.create_run(
                RunRecord(run_id=run_id, notebook="warm-up.ipynb", notebook_version="v",
                          state="running", started_at=now, parameters={"n": 1},
                          lineage=Lineage(user="warm-up", environment_digest="0" * 16,
                                          upstream={"step": run_id})),
                runner=RunnerIdentity("localhost", os.getpid(), None), run_key="k")
            registry.cached_run("k")
            registry.heartbeat(run_id)
            registry.finish_run(run_id, state="succeeded", failure=None, values={"x": 1.0},
                                artifacts=[("notebook.ipynb", f"runs/{run_id}/notebook.ipynb",
                                            "0" * 64, 1)], ended_at=now)
            registry.list_runs(run_ids=[run_id])
        finally:
            engine.dispose()
    return migrated


def _serve(key: str, idle: float) -> None:
    path = socket_path(key)
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o600)
    listener.listen(64)
    (runtime_dir() / f"cli-{key}.starting").unlink(missing_ok=True)
    info = runtime_dir() / f"cli-{key}.json"
    info.write_text(json.dumps({"pid": os.getpid(), "key": key, "socket": str(path),
                                "python": sys.executable, "started": time.time()}))
    last = time.monotonic()
    children: set[int] = set()  # commands running, and the spare
    spare: Spare | None = None
    try:
        while True:
            _reap(children)
            if spare is not None and spare.pid not in children:  # it died
                spare.discard()
                spare = None
            busy = _commands(children, spare)
            if spare is None and not busy:  # forked while no command competes with it
                spare = start_spare(listener.close, _rehearse, _child)
                children.add(spare.pid)
            # while commands run, looked at often: the next spare is forked once they end
            ready, _, _ = select.select([listener], [], [], 0.05 if busy else 1.0)
            if ready:
                last = time.monotonic()
                conn, _ = listener.accept()
                pid = _accept(conn, listener, spare)
                if spare is not None and pid == spare.pid:
                    spare = None  # it runs this command; the next is forked when idle
                if pid:
                    children.add(pid)
            elif (time.monotonic() - last > idle and not _commands(children, spare)) or \
                    warm_key() != key:
                break
    finally:
        if spare is not None:
            spare.discard()
        listener.close()
        path.unlink(missing_ok=True)
        info.unlink(missing_ok=True)


def _commands(children: set[int], spare: Spare | None) -> set[int]:
    """The children that run commands (all but the spare)."""
    return {pid for pid in children if spare is None or pid != spare.pid}


def _reap(children: set[int]) -> None:
    while children:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        children.discard(pid)


def _accept(conn: socket.socket, listener: socket.socket, spare: Spare | None = None) -> int:
    """Receive one request and hand it to the spare if one is ready, else fork its child;
    returns the pid of the process that runs it (0 on failure).

    A peer that is not this user is refused before anything is read from it.
    """
    if not same_user(conn):
        conn.close()
        return 0
    try:
        conn.settimeout(10)
        data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
        while not data.endswith(b"\n"):
            more = conn.recv(1 << 20)
            if not more:
                break
            data += more
        request = json.loads(data)
    except (OSError, ValueError):
        conn.close()
        return 0
    if len(fds) != 3:
        for fd in fds:
            os.close(fd)
        conn.close()
        return 0
    if spare is not None and spare.is_ready() and spare.take(data, [*fds, conn.fileno()]):
        pid = spare.pid
    else:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            listener.close()
            _child(conn, fds, request)  # never returns
    for fd in fds:
        os.close(fd)
    conn.close()
    return pid


def _child(conn: socket.socket, fds: list[int], request: dict[str, Any]) -> None:
    code = 70
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(request.get("env", {}))
        os.umask(int(request.get("umask", 0o022)))
        os.chdir(request.get("cwd") or "/")
        sys.argv = ["nbprod", *request.get("argv", [])]
        conn.settimeout(None)
        conn.sendall((json.dumps({"pid": os.getpid()}) + "\n").encode())
        _die_with_caller(conn)
        from .main import run_cli

        code = run_cli(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        with contextlib.suppress(OSError):
            conn.sendall((json.dumps({"exit": code}) + "\n").encode())
        os._exit(code)


def _die_with_caller(conn: socket.socket) -> None:
    """Exit at once if the launcher goes away (killed): as its own process would have."""
    def watch() -> None:
        try:
            while conn.recv(1):
                pass
        except OSError:
            pass
        os._exit(1)

    threading.Thread(target=watch, name="nbprod-caller-watch", daemon=True).start()


def running() -> list[dict[str, Any]]:
    """Warm processes that answer (stale info files are removed)."""
    found = []
    for info in runtime_dir().glob("cli-*.json"):
        try:
            data = json.loads(info.read_text())
            os.kill(int(data["pid"]), 0)
        except (OSError, ValueError, KeyError):
            info.unlink(missing_ok=True)
            continue
        found.append(data)
    return found


def stop_all() -> int:
    import signal

    stopped = 0
    for data in running():
        try:
            os.kill(int(data["pid"]), signal.SIGTERM)
            stopped += 1
        except OSError:
            pass
        Path(data.get("socket", "")).unlink(missing_ok=True)
    return stopped


if __name__ == "__main__":
    main()
