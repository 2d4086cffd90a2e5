"""A real ``jupyter lab`` on 127.0.0.1 serving a copy of the example project, and Debian's
chromium driven by playwright against it.

The Lab is started by the fixture (``--allow-root`` when root, a token, authentication
required), with its own Jupyter config, data, runtime and settings folders; it finds nbprod's
server extension and its prebuilt Lab extension where ``make setup`` (or a wheel) installed
them. The news toast is turned off (``overrides.json``), as it covers the notebook.

The project is the repository's own (``pyproject.toml``, ``notebooks/``), with ``prepare``
already run (``train`` reads its files) and one cell added to ``train.ipynb`` that lint flags
(NBP401, unseeded randomness, at cell 9) but that runs fine; ``nbprod test`` has passed on
that train.ipynb; its job ``pipeline`` is built (version 1), no stage points anywhere yet.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from ..conftest import run_cli
from ..server.conftest import free_port, require_browser, screenshot_dir, server_env

ROOT = Path(__file__).resolve().parents[2]
LAB_DATA = ROOT / "tests" / "data" / "lab"
LINTED_CELL = 9  # the cell of train.ipynb that lint flags (added below)
CURRENT = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in front
OVERRIDES = {"@jupyterlab/apputils-extension:notification": {
    "fetchNews": "false", "checkForUpdates": False}}


def example_project(root: Path) -> Path:
    """The repository's project (settings and notebooks) with prepare run, the panel
    notebook, and a lint finding in train.ipynb's cell 9."""
    import nbformat

    root.mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(ROOT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns("nbprod-local", ".ipynb_checkpoints"))
    shutil.copy(LAB_DATA / "panel.ipynb", root / "notebooks" / "panel.ipynb")
    train = nbformat.read(root / "notebooks" / "train.ipynb", as_version=4)
    cell = nbformat.v4.new_code_cell("import numpy as np\n\njitter = np.random.rand()  # a quick "
                                     "look at noise")
    cell["id"] = "unseeded"
    train.cells.insert(LINTED_CELL, cell)
    nbformat.write(train, root / "notebooks" / "train.ipynb")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    for command in (["run", "prepare"], ["job", "build", "pipeline"],
                    ["test", "notebooks/train.ipynb"]):
        done = run_cli(root, *command, timeout=300)
        assert done.returncode == 0, done.stderr
    return root


@dataclass
class Lab:
    """A running ``jupyter lab``: its URL, token, project and log."""

    base: str
    token: str
    root: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    http: requests.Session = field(default_factory=requests.Session)

    def url(self, path: str) -> str:
        return self.base + path

    def api(self, path: str, method: str = "get", **kwargs: Any) -> requests.Response:
        """A request to the server with the token (as a script would make it)."""
        return self.http.request(method, self.url(path), timeout=60,
                                 headers={"Authorization": f"token {self.token}"}, **kwargs)

    def runs(self, notebook: str) -> list[dict[str, Any]]:
        reply = self.api(f"/nbprod/api/runs?notebook={notebook}&limit=200")
        assert reply.status_code == 200, reply.text
        return list(reply.json()["runs"])

    def delete_sessions(self) -> None:
        """No kernel session survives a test: a reused one stalled runs (notes)."""
        for session in self.api("/api/sessions").json():
            self.api(f"/api/sessions/{session['id']}", "delete")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.delete_sessions()
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.http.close()


def start_lab(root: Path, tmp: Path) -> Lab:
    """``jupyter lab`` serving ``root``; returns once ``/api/status`` answers."""
    port, token = free_port(), secrets.token_hex(16)
    settings = tmp / "app-settings"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(OVERRIDES))
    log = tmp / f"lab-{port}.log"
    args = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
            f"--port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--ServerApp.allow_unauthenticated_access=False",
            f"--LabApp.app_settings_dir={settings}",
            f"--LabApp.workspaces_dir={tmp / 'workspaces'}"]
    if os.geteuid() == 0:
        args.append("--allow-root")
    env = server_env(tmp, {"NBPROD_WARM": "0"})
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    lab = Lab(base=f"http://127.0.0.1:{port}", token=token, root=root, log=log, proc=proc)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"jupyter lab exited {proc.returncode}:\n{log.read_text()}")
        try:
            if lab.api("/api/status").status_code == 200:
                return lab
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    lab.stop()
    raise AssertionError(f"jupyter lab did not answer in 90 s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_browser()
    tmp = tmp_path_factory.mktemp("lab")
    server = start_lab(example_project(tmp / "project"), tmp)
    try:
        yield server
    finally:
        server.stop()
        subprocess.run([sys.executable, "-m", "nbprod", "kernels", "stop"], cwd=server.root,
                       capture_output=True, timeout=60, check=False)


@pytest.fixture(scope="session")
def browser_context(lab: Lab, browser: Any) -> Iterator[Any]:
    """One context for every page: the login cookie is kept."""
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    context.set_default_timeout(60_000)
    try:
        yield context
    finally:
        context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    """Keep each phase's report on the test, so ``page`` knows when its test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(lab: Lab, browser_context: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page, with no kernel session left over from an earlier test; a screenshot of
    it when the test fails (``FAILED-<test>.png``)."""
    lab.delete_sessions()
    page = browser_context.new_page()
    try:
        yield page
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            page.screenshot(path=str(screenshot_dir() / f"FAILED-{request.node.name}.png"))
        page.close()
        lab.delete_sessions()


def shot_path(name: str) -> Path:
    """Where screenshot ``name`` goes: the screenshots folder (.ci/run prints where)."""
    return screenshot_dir() / f"lab-{name}.png"


def shot(page: Any, name: str) -> Path:
    """Save a screenshot of the whole page."""
    path = shot_path(name)
    page.screenshot(path=str(path))
    return path


def open_notebook(page: Any, lab: Lab, path: str) -> None:
    """Open ``path`` in Lab, wait until its kernel is idle and show the nbprod sidebar."""
    # ?reset: a fresh workspace, so notebooks an earlier test opened are not reopened.
    page.goto(lab.url(f"/lab/tree/{path}?reset&token={lab.token}"))
    page.wait_for_selector(f"{CURRENT} .jp-Cell", state="visible")
    page.wait_for_selector("text=/\\| Idle/", timeout=90_000)
    # Lab marks a notebook changed once the kernel reports its language: save, so a run's
    # dialog does not warn about unsaved changes nobody made.
    page.locator(f"{CURRENT} .jp-Notebook").click()
    page.keyboard.press("Control+s")
    page.wait_for_selector(".jp-mod-current.jp-mod-dirty", state="detached")
    tab = page.locator(".jp-SideBar.jp-mod-right [data-id='nbprod-sidebar']")
    if tab.get_attribute("aria-selected") != "true":
        tab.click()
    page.wait_for_selector(f".nbprod-sidebar .nbprod-where:text-is('{path}')")
    page.wait_for_selector(".nbprod-section-lint li, .nbprod-section-lint .nbprod-ok")
