"""Shared fixtures: a throw-away project holding the tiny notebooks of tests/data/notebooks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbprod.api import Project, open_project
from nbprod.config import load_settings

DATA = Path(__file__).parent / "data" / "notebooks"


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
