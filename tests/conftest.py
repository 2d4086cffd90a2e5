"""Shared fixtures: a throw-away project holding the tiny notebooks of tests/data/notebooks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from nbprod.api import Project, open_project
from nbprod.config import load_settings

DATA = Path(__file__).parent / "data" / "notebooks"


@pytest.fixture(scope="session", autouse=True)
def session_runtime_dir() -> Iterator[Path]:
    """The kernel templates and warm nbprod processes the tests start live in a runtime
    folder of the session's own (``XDG_RUNTIME_DIR``, inherited by every command a test runs;
    short: Unix socket paths are limited), and are stopped when the session ends, so no test
    leaves one running. Tests that watch templates closely use folders of their own too."""
    from nbprod.cli.warm import stop_all
    from nbprod.kernels.client import stop_templates

    folder = Path(tempfile.mkdtemp(prefix="nbt-", dir="/tmp"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_RUNTIME_DIR", str(folder))
        try:
            yield folder
        finally:
            stop_templates()
            stop_all()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def runtime_base() -> Iterator[Path]:
    """A runtime folder of the test's own (short: socket paths); its warm nbprod and kernel
    templates are stopped at the end."""
    folder = Path(tempfile.mkdtemp(prefix="nbw-", dir="/tmp"))
    try:
        yield folder
    finally:
        subprocess.run([str(Path(sys.executable).parent / "nbprod"), "kernels", "stop"],
                       env={**os.environ, "XDG_RUNTIME_DIR": str(folder)},
                       capture_output=True, timeout=60, check=False)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A project folder with nbprod.toml and a copy of every test notebook."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "nbprod.toml").write_text('notebook_dir = "."\nheartbeat_interval = 1\n')
    for notebook in DATA.glob("*.ipynb"):
        shutil.copy(notebook, root / notebook.name)
    return root


@pytest.fixture
def project(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """The open project (registry + store) of ``project_dir``."""
    monkeypatch.chdir(project_dir)
    with open_project(load_settings(project_dir, env={}), dict(os.environ)) as opened:
        yield opened


def run_cli(cwd: Path, *args: str, env: dict[str, str] | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run ``python -m nbprod ARGS`` the way a user would, in ``cwd``."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("NBPROD_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "nbprod", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def run_json(cwd: Path, *args: str, **kwargs: Any) -> tuple[int, Any]:
    """Run a command with --json; return its exit code and parsed output."""
    proc = run_cli(cwd, *args, "--json", **kwargs)
    try:
        return proc.returncode, json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(
            f"not JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}") from None


def commit_all(root: Path) -> None:
    """``git init`` ``root`` and commit everything in it (a clean checkout for lineage)."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "example"], cwd=root, check=True)


@pytest.fixture
def cli(project_dir: Path):  # type: ignore[no-untyped-def]
    """``cli("run", "ok.ipynb")`` runs nbprod in the project folder."""
    def call(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return run_cli(project_dir, *args, **kwargs)
    return call


def require(available: bool, what: str) -> None:
    """Skip when ``what`` is missing here; under NBPROD_REQUIRE_SERVICES=1 (CI), fail."""
    if available:
        return
    if os.environ.get("NBPROD_REQUIRE_SERVICES") == "1":
        pytest.fail(f"needs {what} (NBPROD_REQUIRE_SERVICES=1)")
    pytest.skip(f"needs {what}")


def require_root(why: str) -> None:
    """Tests that act as another user or mount a filesystem need root (CI runs as root)."""
    require(os.getuid() == 0, f"root to {why}")


def stop_processes(procs: list[subprocess.Popen[bytes]], timeout: float = 15) -> None:
    """SIGTERM each process (newest first), then wait; kill any that outstays ``timeout``."""
    import signal

    for proc in reversed(procs):
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """The URL of a fresh database on the test PostgreSQL server, dropped afterwards.

    The drop retries for a while: after a large insert the server's autovacuum may be in the
    database, and ``DROP DATABASE ... WITH (FORCE)`` may not end an autovacuum worker unless
    the role is in ``pg_signal_backend`` (``.ci/run`` grants it; a developer's role may lack
    it).
    """
    import secrets

    import sqlalchemy as sa

    base = os.environ.get("NBPROD_TEST_POSTGRES_URL")
    if not base:
        if os.environ.get("NBPROD_REQUIRE_SERVICES") == "1":
            pytest.fail("NBPROD_TEST_POSTGRES_URL is not set but services are required")
        pytest.skip("no PostgreSQL server (set NBPROD_TEST_POSTGRES_URL)")
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        deadline = time.monotonic() + 30
        while True:
            try:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                break
            except sa.exc.DBAPIError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        admin.dispose()


def write_notebook(path: Path, parameters: str | None, *cells: str) -> Path:
    """A python3 notebook: a cell tagged ``parameters`` (if given), then code cells."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                              "language": "python"}
    if parameters is not None:
        params = nbformat.v4.new_code_cell(parameters)
        params.metadata.tags = ["parameters"]
        nb.cells.append(params)
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)
    return path


# -- No silent skips under .ci/run -------------------------------------------------------------
# With NBPROD_REQUIRE_SERVICES=1 a skipped test fails unless its reason is allowed in
# tests/skips-allowed.txt (with why it cannot run there); the session ends by counting skips.

SKIPS_ALLOWED = Path(__file__).parent / "skips-allowed.txt"


def _allowed_skips() -> list[str]:
    lines = SKIPS_ALLOWED.read_text(encoding="utf-8").splitlines()
    return [line.split(" :: ", 1)[0].strip() for line in lines
            if line.strip() and not line.startswith("#") and " :: " in line]


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if not report.skipped or hasattr(report, "wasxfail") or \
            os.environ.get("NBPROD_REQUIRE_SERVICES") != "1":
        return
    reason = _skip_reason(report)
    if any(allowed in reason for allowed in _allowed_skips()):
        report.user_properties.append(("allowed_skip", reason))
        return
    report.outcome = "failed"
    report.longrepr = (f"skipped under NBPROD_REQUIRE_SERVICES=1 (.ci/run): {reason}\n"
                       f"install what it needs in .ci/run, or allow it in {SKIPS_ALLOWED.name} "
                       "with why it cannot run there")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    allowed = sum(1 for r in skipped if any(k == "allowed_skip" for k, _ in r.user_properties))
    terminalreporter.write_line(f"nbprod: {len(skipped)} skipped ({allowed} allowed in "
                                f"tests/{SKIPS_ALLOWED.name})")
@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium through playwright, one for the whole session: playwright's sync API
    runs one instance at a time, so the dashboard's and the Lab extension's browser tests share
    it (each makes its own contexts)."""
    from .server.conftest import CHROMIUM, CHROMIUM_ARGS, require_browser

    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
