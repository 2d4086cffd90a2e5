"""lint_notebooks and run_notebook_tests take a Project like the other use cases (issue 9 §4):
they record into its registry as its acting user, and lint opens the registry only when it
has something new to record."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nbprod.api import open_project
from nbprod.api.lint import lint_notebooks
from nbprod.config import load_settings
from nbprod.lint.config import LintConfig


def test_lint_records_in_the_projects_registry_as_its_user(project_dir: Path) -> None:
    settings = dataclasses.replace(load_settings(project_dir, env={}), identity="env")
    with open_project(settings, {"NBPROD_USER": "lint-bot"}) as project:
        outcome = lint_notebooks(project, [project_dir / "ok.ipynb"], LintConfig())
        assert outcome.recorded == 1
        [check] = project.registry.checks.latest(kind="lint", limit=5)
        assert check.user == "lint-bot" and check.notebook == "ok.ipynb"
    with open_project(settings, {"NBPROD_USER": "lint-bot"}) as again:
        assert lint_notebooks(again, [project_dir / "ok.ipynb"], LintConfig()).recorded == 0
        assert again._registry is None  # already recorded: the database was not opened


_TESTS_IN_A_FRESH_PROCESS = """
import json, sys
from pathlib import Path
from nbprod.api import open_project
from nbprod.api.testing import run_notebook_tests
from nbprod.config import load_settings
from nbprod.validate.config import TestConfig

root = Path(sys.argv[1])
with open_project(load_settings(root, env={}), {}) as project:
    report = run_notebook_tests(project, [root / "ok.ipynb"], TestConfig(regression=False))
    [check] = project.registry.checks.latest(kind="test", limit=5)
    print(json.dumps({"passed": report.passed, "recorded": report.recorded,
                      "user": check.user, "project_user": project.user}))
"""


@pytest.mark.slow
def test_notebook_tests_record_in_the_projects_registry(project_dir: Path) -> None:
    # In a process of its own: run_notebook_tests forks workers, and this pytest process
    # has threads left by other tests (forking a threaded process can deadlock).
    proc = subprocess.run([sys.executable, "-c", _TESTS_IN_A_FRESH_PROCESS, str(project_dir)],
                          capture_output=True, text=True, timeout=280, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["passed"] and result["recorded"] == 1
    assert result["user"] == result["project_user"] != ""
