"""``nbprod init``, ``nbprod new`` and ``nbprod params`` as a new user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ..conftest import DATA, run_cli, run_json


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / ".git").mkdir()  # a repository root: settings are not looked for above it
    return folder


@pytest.mark.slow
def test_init_then_lint_test_and_job_run(empty: Path) -> None:
    made = run_cli(empty, "init", "demo")
    assert made.returncode == 0, made.stderr
    assert "next:" in made.stdout and "cd demo" in made.stdout
    demo = empty / "demo"
    assert sorted(p.relative_to(demo).as_posix() for p in demo.rglob("*") if p.is_file()) == [
        ".gitignore", "README.md", "notebooks/prepare.ipynb", "notebooks/train.ipynb",
        "pyproject.toml"]
    assert ".nbprod/" in (demo / ".gitignore").read_text()
    assert "# demo\n" in (demo / "README.md").read_text()

    lint = run_cli(demo, "lint")
    assert lint.returncode == 0 and "no findings" in lint.stdout, lint.stdout + lint.stderr
    tested = run_cli(demo, "test")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    code, job = run_json(demo, "job", "run", "pipeline")
    assert code == 0, job
    assert job["state"] == "succeeded"
    code, runs = run_json(demo, "runs")
    train = next(r for r in runs if r["notebook"] == "notebooks/train.ipynb")
    assert train["values"]["accuracy"] > 0.9
    assert any(a["name"] == "files/model.joblib" for a in train["artifacts"])

    again = run_cli(empty, "init", "demo")
    assert again.returncode == 2
    assert again.stderr.count("\n") == 1, again.stderr
    for name in ("demo/pyproject.toml", "demo/README.md", "demo/.gitignore",
                 "demo/notebooks/prepare.ipynb", "demo/notebooks/train.ipynb"):
        assert name in again.stderr
    assert "--force" in again.stderr


def test_init_keeps_other_files_and_force_replaces_its_own(empty: Path) -> None:
    (empty / "data.csv").write_text("a\n1\n")
    assert run_cli(empty, "init").returncode == 0
    (empty / "README.md").write_text("mine\n")

    refused = run_cli(empty, "init")
    assert refused.returncode == 2 and "README.md" in refused.stderr
    assert (empty / "README.md").read_text() == "mine\n"

    forced = run_cli(empty, "init", "--force")
    assert forced.returncode == 0, forced.stderr
    assert (empty / "README.md").read_text() != "mine\n"
    assert (empty / "data.csv").read_text() == "a\n1\n"


@pytest.mark.parametrize("template", ["blank", "train", "score"])
def test_new_notebook_from_each_template_is_lint_clean(empty: Path, template: str) -> None:
    assert run_cli(empty, "init").returncode == 0

    made = run_cli(empty, "new", f"my_{template}", "--template", template)
    assert made.returncode == 0, made.stderr
    path = empty / "notebooks" / f"my_{template}.ipynb"
    text = path.read_text()
    assert f"my_{template}" in text and "{{ name }}" not in text
    assert "nbprod.record(" in text and "nbprod.output_path(" in text
    lint = run_cli(empty, "lint", str(path))
    assert lint.returncode == 0 and "no findings" in lint.stdout, lint.stdout
    code, params = run_json(empty, "params", f"my_{template}")
    assert code == 0 and params and all(p["typed"] and p["help"] for p in params)

    again = run_cli(empty, "new", f"my_{template}", "--template", template)
    assert again.returncode == 2 and f"my_{template}.ipynb" in again.stderr


@pytest.mark.slow
def test_new_blank_notebook_runs(empty: Path) -> None:
    assert run_cli(empty, "init").returncode == 0
    assert run_cli(empty, "new", "hello").returncode == 0

    code, record = run_json(empty, "run", "hello", "-p", "greeting", "hi", "-p", "repeat", "3")
    assert code == 0, record
    assert record["values"] == {"words": 3}
    assert any(a["name"] == "files/message.txt" for a in record["artifacts"])


def test_new_refuses_bad_names_and_templates(empty: Path) -> None:
    for args, says in ((["../escape"], "is not allowed"), (["x.ipynb"], "is not allowed"),
                       (["ok", "--template", "nope"], "no notebook template 'nope'")):
        proc = run_cli(empty, "new", *args)
        assert proc.returncode == 2, proc.stderr
        assert says in proc.stderr
    listed = run_cli(empty, "new", "x", "--list")
    assert listed.stdout.split() == ["blank", "score", "train"]


def test_params_reads_a_papermill_style_cell(empty: Path) -> None:
    shutil.copy(DATA / "papermill_style.ipynb", empty)

    text = run_cli(empty, "params", "papermill_style.ipynb")
    assert text.returncode == 0, text.stderr
    for row in ("n_rows", "int (inferred)", "rows to generate", "data_dir",
                'os.path.join(base_dir, "data")  (computed)', "SEED", "random seed",
                "threshold", "float"):
        assert row in text.stdout, text.stdout
    assert "nbprod lint" in text.stderr

    code, params = run_json(empty, "params", "papermill_style.ipynb")
    assert code == 0
    assert [p["name"] for p in params] == ["DEFAULT_SEED", "SEED", "base_dir", "data_dir",
                                           "tmp_dir", "n_rows", "threshold", "label"]
    assert all({"name", "type", "default", "help", "typed"} <= set(p) for p in params)
    by_name = {p["name"]: p for p in params}
    assert by_name["n_rows"] == {"name": "n_rows", "type": "int", "default": 10,
                                 "help": "rows to generate", "typed": True, "annotated": False,
                                 "computed": None}
    assert by_name["label"]["typed"] is False and by_name["label"]["type"] == "any"


def test_params_without_kernelspec_and_without_parameters_cell(empty: Path) -> None:
    notebook = json.loads((DATA / "ok.ipynb").read_text())
    del notebook["metadata"]["kernelspec"]
    (empty / "nokernel.ipynb").write_text(json.dumps(notebook))
    shutil.copy(DATA / "no_parameters.ipynb", empty)

    code, params = run_json(empty, "params", "nokernel.ipynb")
    assert code == 0 and [p["name"] for p in params] == ["x", "label"]
    none = run_cli(empty, "params", "no_parameters.ipynb")
    assert none.returncode == 0 and "has no cell tagged 'parameters'" in none.stdout


def test_params_errors_are_one_line(empty: Path) -> None:
    (empty / "bad.ipynb").write_text(json.dumps({
        "cells": [{"cell_type": "code", "id": "a", "metadata": {"tags": ["parameters"]},
                   "outputs": [], "execution_count": None, "source": "n: int = 'five'"}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))

    for args, code, says in ((["missing.ipynb"], 2, "no notebook 'missing.ipynb'"),
                             (["bad.ipynb"], 2, "the default of 'n' ('five') is not a int")):
        proc = run_cli(empty, "params", *args)
        assert proc.returncode == code
        assert proc.stderr.count("\n") == 1 and says in proc.stderr, proc.stderr
    lenient = run_cli(empty, "params", "bad.ipynb", "--no-strict")
    assert lenient.returncode == 0 and "any (untyped)" in lenient.stdout
