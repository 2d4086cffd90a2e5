"""The cap on live kernel templates: ten notebooks with different imports leave at most
``max_templates`` templates alive (least recently used stopped first), and ``templates_memory``
stops the others once a new one holds more."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nbprod.api import open_project
from nbprod.config import load_settings
from nbprod.kernels.client import running_templates
from nbprod.kernels.forkserver import owned

from .helpers import run, succeeded, template_for, wait_for, write_notebook

pytestmark = pytest.mark.slow

MODULES = ("csv", "json", "decimal", "fractions", "statistics", "difflib", "textwrap",
           "tomllib", "zipfile", "heapq")


def live_templates(folder: Path) -> int:
    """Template processes holding a key (starting or serving) in this runtime folder."""
    owners = (folder / f"nbprod-{os.getuid()}").glob("k-*.owner")
    return sum(1 for path in owners if owned(path.with_suffix(".sock")))


def notebooks(root: Path) -> list[Path]:
    return [write_notebook(root / f"uses_{name}.ipynb", f"import {name}\nprint({name}.__name__)")
            for name in MODULES]


def test_ten_notebooks_with_different_imports_leave_at_most_the_cap(
        fresh_runtime_dir: Path, project_dir: Path) -> None:
    paths = notebooks(project_dir)
    settings = load_settings(project_dir, env={})
    assert settings.max_templates == 3  # the default this test is about
    with open_project(settings, dict(os.environ)) as project:
        for path in paths:
            succeeded(run(project, path, wait=False))  # starts its template, runs plain
    # Each template stops the least recently used others once it is ready.
    wait_for(lambda: live_templates(fresh_runtime_dir) <= 3, 60,
             "the live templates to come down to the cap")
    wait_for(lambda: len(running_templates()) == live_templates(fresh_runtime_dir), 60,
             "every live template to be ready")
    assert live_templates(fresh_runtime_dir) <= 3
    # The last notebook's template is the most recently started: it is one of those kept.
    assert template_for(paths[-1]).key in {t["key"] for t in running_templates()}


def test_the_memory_cap_keeps_only_the_newest_template(fresh_runtime_dir: Path,
                                                       project_dir: Path) -> None:
    first, second = notebooks(project_dir)[:2]
    settings = load_settings(project_dir, env={"NBPROD_TEMPLATES_MEMORY": "1"})  # 1 MB
    with open_project(settings, dict(os.environ)) as project:
        succeeded(run(project, first, wait=True))
        assert [t["key"] for t in running_templates()] == [template_for(first).key]
        succeeded(run(project, second, wait=True))
    wait_for(lambda: [t["key"] for t in running_templates()] == [template_for(second).key],
             30, "the older template to be stopped")
