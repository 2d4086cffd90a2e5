"""A real nbprod server on 127.0.0.1 for a throw-away project, its users, and a browser.

The server is ``python -m nbprod.server`` (what ``nbprod serve`` runs) in a subprocess, with
``allow_unauthenticated_access`` off, its own Jupyter config/data/runtime folders, a token for
its owner and declared users with hashed tokens:

- alice: runner, approver, promotes every stage (she builds the versions);
- bob: approver; carol: viewer only; admin: admin.

The browser is Debian's chromium driven by playwright (``executable_path``, never a
download). Without it these tests skip, unless NBPROD_REQUIRE_SERVICES=1 (.ci/run), where they
fail.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
USERS = ("alice", "bob", "carol", "admin")
ROLES = """
[roles]
admins = ["admin"]
runners = ["alice"]
approvers = ["alice", "bob"]
viewers = ["carol"]
promote = { dev = ["alice"], staging = ["alice"], production = ["alice"] }
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hashed(token: str) -> str:
    from jupyter_server.auth.security import passwd

    return str(passwd(token, algorithm="sha256"))


def write_settings(root: Path, body: str, tokens: dict[str, str]) -> None:
    """nbprod.toml: ``body``, the roles, and the declared users' token hashes."""
    users = "\n".join(f'{name} = "{hashed(token)}"' for name, token in tokens.items())
    (root / "nbprod.toml").write_text(f"{body}\n{ROLES}\n[server.users]\n{users}\n")


def small_project(root: Path) -> Path:
    """Tiny notebooks (ok, raises, glue, slow, xss) and a two-step job ``pair``."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("ok", "raises", "glue"):
        shutil.copy(DATA / "notebooks" / f"{name}.ipynb", root / f"{name}.ipynb")
    for name in ("slow", "xss"):
        shutil.copy(DATA / "server" / f"{name}.ipynb", root / f"{name}.ipynb")
    return root


SMALL_SETTINGS = """notebook_dir = "."
heartbeat_interval = 1

[jobs.pair]
steps = ["ok", "glue"]
[jobs.pair.promotion.staging]
gates = ["succeeded_run"]
[jobs.pair.promotion.production]
gates = ["succeeded_run", "previous_stage"]
approvals = 1
"""


def server_env(tmp: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a server process: no NBPROD_* or JUPYTER_* of ours, Jupyter's
    folders private to the test (its cookie secret is not another server's)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NBPROD_", "JUPYTER_"))}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        folder = tmp / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    env["NBPROD_WARM"] = "0"
    env.update(extra or {})
    return env


@dataclass
class Server:
    """A running server: its URL, the owner's and the users' tokens, its log."""

    base: str
    token: str
    tokens: dict[str, str]
    root: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    sessions: dict[str, requests.Session] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base + path

    def session(self, user: str | None = None) -> requests.Session:
        """A session authenticated with ``user``'s token (the owner's when None)."""
        key = user or ""
        if key not in self.sessions:
            session = requests.Session()
            token = self.tokens[user] if user else self.token
            session.headers["Authorization"] = f"token {token}"
            self.sessions[key] = session
        return self.sessions[key]

    def get(self, path: str, user: str | None = None, **kwargs: Any) -> requests.Response:
        return self.session(user).get(self.url(path), timeout=60, allow_redirects=False,
                                      **kwargs)

    def post(self, path: str, body: Any = None, user: str | None = None,
             **kwargs: Any) -> requests.Response:
        return self.session(user).post(self.url(path), json=body, timeout=60,
                                       allow_redirects=False, **kwargs)

    def events(self, path: str, user: str | None = "carol",
               timeout: float = 180) -> Iterator[dict[str, Any]]:
        """Server-sent events of ``path`` (each ``data:`` line's JSON) until the stream ends."""
        deadline = time.monotonic() + timeout
        with self.session(user).get(self.url(path), stream=True, timeout=timeout) as reply:
            assert reply.status_code == 200, reply.text
            assert reply.headers["Content-Type"].startswith("text/event-stream")
            for line in reply.iter_lines(decode_unicode=True):
                if line and line.startswith("data: "):
                    yield json.loads(line[len("data: "):])
                if time.monotonic() > deadline:
                    raise AssertionError(f"{path}: no final event in {timeout} s")

    def wait_task(self, task: dict[str, Any], user: str | None = "carol") -> dict[str, Any]:
        """Follow a task's events to its final one; return all of them."""
        seen = list(self.events(f"/nbprod/api/tasks/{task['task_id']}/events", user))
        assert seen and seen[-1]["final"], seen
        return {"last": seen[-1], "all": seen}

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for session in self.sessions.values():
            session.close()


def start_server(root: Path, tmp: Path, tokens: dict[str, str],
                 env: dict[str, str] | None = None, base_url: str = "/") -> Server:
    """Start ``python -m nbprod.server ROOT`` and wait until it answers."""
    port = free_port()
    token = secrets.token_hex(16)
    log = tmp / f"server-{port}.log"
    args = [sys.executable, "-m", "nbprod.server", str(root), f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}",
            "--ServerApp.allow_unauthenticated_access=False", "--ServerApp.port_retries=0",
            f"--ServerApp.base_url={base_url}"]
    if os.geteuid() == 0:
        args.append("--allow-root")
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=root, env=server_env(tmp, env), stdout=out,
                                stderr=subprocess.STDOUT)
    server = Server(base=f"http://127.0.0.1:{port}{base_url.rstrip('/')}", token=token,
                    tokens=tokens, root=root, log=log, proc=proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}:\n{log.read_text()}")
        try:
            if server.get("/api/status").status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    server.stop()
    raise AssertionError(f"server did not answer in 60 s:\n{log.read_text()}")


def user_tokens() -> dict[str, str]:
    return {name: secrets.token_urlsafe(24) for name in USERS}


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server for the small project (module-wide: starting one costs ~2 s)."""
    tmp = tmp_path_factory.mktemp("server")
    root = small_project(tmp / "proj")
    tokens = user_tokens()
    write_settings(root, SMALL_SETTINGS, tokens)
    server = start_server(root, tmp, tokens)
    try:
        yield server
    finally:
        server.stop()


def require_browser() -> None:
    """Skip (or fail, when services are required) without chromium or playwright."""
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if missing:
        message = f"browser tests need {', '.join(missing)}"
        if os.environ.get("NBPROD_REQUIRE_SERVICES") == "1":
            pytest.fail(message + " but services are required")
        pytest.skip(message)


def screenshot_dir() -> Path:
    """Where browser tests save screenshots (NBPROD_SCREENSHOTS, else build/screenshots)."""
    folder = Path(os.environ.get("NBPROD_SCREENSHOTS") or ROOT / "build" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# The `browser` fixture (chromium) is in tests/conftest.py: tests/lab shares it.
