"""A small real project with a scheduled job, built in-process, to export."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from nbprod.api import open_project
from nbprod.api.export import export_job
from nbprod.api.jobs import build_job
from nbprod.config import load_settings
from nbprod.jobs.spec import job_spec

CRON = "0 6 * * *"
COMMAND = "nbprod job run pipe --stage production"

NBPROD_TOML = f"""\
notebook_dir = "notebooks"

[jobs.pipe]
steps = ["nb"]
schedule = "{CRON}"
"""


def notebook() -> dict[str, object]:
    """nbformat 4.5, kernel python3, one parameters cell."""
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "params",
                   "metadata": {"tags": ["parameters"]}, "outputs": [],
                   "source": ["x: int = 1"]}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


def make_project(root: Path, toml: str = NBPROD_TOML) -> Path:
    (root / "notebooks").mkdir(parents=True)
    (root / "nbprod.toml").write_text(toml)
    (root / "notebooks" / "nb.ipynb").write_text(json.dumps(notebook(), indent=1))
    return root


def build(root: Path, job: str = "pipe") -> int:
    """Build a version of ``job``; its number."""
    settings = load_settings(root, env={})
    with open_project(settings, {}) as project:
        return build_job(project, job_spec(settings, job)).version.version


Export = Callable[..., dict[str, str]]


def export(root: Path, target: str, *, job: str = "pipe", version: int | None = None,
           out: str = "deploy", image: str | None = None,
           environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Export in-process; the written files' text by path relative to the output folder."""
    settings = load_settings(root, env={})
    out_dir = Path(os.path.abspath(root / out))
    with open_project(settings, {}) as project:
        written = export_job(project, job_spec(settings, job), target=target, version=version,
                             out_dir=out_dir, image=image, environ=dict(environ or {}))
    return {path.relative_to(out_dir).as_posix(): path.read_text() for path in written}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The project, with version 1 of job ``pipe`` built."""
    project = make_project(tmp_path / "proj")
    assert build(project) == 1
    return project
