"""--target github: a workflow on the job's cron (and by hand), secrets from secrets.*."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .conftest import COMMAND, CRON, build, export, make_project


def workflow(files: dict[str, str], job: str = "pipe") -> dict[Any, Any]:
    data = yaml.safe_load(files[f".github/workflows/nbprod-{job}.yml"])
    assert isinstance(data, dict)
    return data


def triggers(data: dict[Any, Any]) -> dict[str, Any]:
    """``on:`` — which YAML 1.1 (PyYAML) reads as the key True."""
    value = data["on"] if "on" in data else data[True]
    assert isinstance(value, dict)
    return value


def test_workflow(root: Path) -> None:
    files = export(root, "github")
    assert set(files) == {".github/workflows/nbprod-pipe.yml",
                          ".github/nbprod/pipe/requirements.lock"}
    data = workflow(files)
    on = triggers(data)
    assert on["schedule"][0]["cron"] == CRON
    assert "workflow_dispatch" in on
    [job] = data["jobs"].values()
    assert job["env"] == {"NBPROD_REGISTRY": "${{ secrets.NBPROD_REGISTRY }}",
                          "NBPROD_STORE": "${{ secrets.NBPROD_STORE }}"}
    steps = job["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["python-version"] == "3.11"
    runs = [s["run"] for s in steps if "run" in s]
    assert any(".github/nbprod/pipe/requirements.lock" in r and "pip install -r" in r
               for r in runs)
    assert runs[-1].strip() == COMMAND
    assert "working-directory" not in str(job.get("defaults"))
    assert "runs whatever version the production stage points at" in \
        files[".github/workflows/nbprod-pipe.yml"].lower()


def test_no_secret_value_in_the_workflow(root: Path) -> None:
    environ = {"NBPROD_REGISTRY": "postgresql+psycopg://u:hunter2-Xq9@db/x",
               "NBPROD_STORE": "s3://bucket/nbprod?secret=AKIAabc123&region=eu"}
    files = export(root, "github", environ=environ)
    text = files[".github/workflows/nbprod-pipe.yml"]
    assert "hunter2-Xq9" not in text and "AKIAabc123" not in text
    assert "postgresql+psycopg://u:***@db/x" in text  # says what the secret must hold
    data = workflow(files)
    [job] = data["jobs"].values()
    assert job["env"]["NBPROD_REGISTRY"] == "${{ secrets.NBPROD_REGISTRY }}"


def test_a_project_in_a_repository_subfolder(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    root = make_project(tmp_path / "repo" / "ml")
    build(root)
    files = export(root, "github", out="..")
    assert (tmp_path / "repo" / ".github" / "workflows" / "nbprod-pipe.yml").is_file()
    [job] = workflow(files)["jobs"].values()
    assert job["defaults"]["run"]["working-directory"] == "ml"
