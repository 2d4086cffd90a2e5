"""lint_notebooks and run_notebook_tests take a Project like the other use cases (issue 9 §4):
they record into its registry as its acting user, and lint opens the registry only when it
has something new to record."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from nbprod.api import open_project
from nbprod.api.lint import lint_notebooks
from nbprod.api.testing import run_notebook_tests
from nbprod.config import load_settings
from nbprod.lint.config import LintConfig
from nbprod.validate.config import TestConfig


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


@pytest.mark.slow
def test_notebook_tests_record_in_the_projects_registry(project_dir: Path) -> None:
    settings = load_settings(project_dir, env={})
    with open_project(settings, dict(os.environ)) as project:
        report = run_notebook_tests(project, [project_dir / "ok.ipynb"],
                                    TestConfig(regression=False))
        assert report.passed and report.recorded == 1
        [check] = project.registry.checks.latest(kind="test", limit=5)
        assert check.user == project.user == project.os_user
