"""--target docker: a Dockerfile that installs the exported version's lock, and its friends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nbprod.api import open_project
from nbprod.config import load_settings
from nbprod.errors import InvalidInput
from nbprod.jobs.bundle import read_lock

from .conftest import build, export, make_project

INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
                "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK",
                "SHELL"}


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined; fails on anything
    that is not an instruction, a comment or a blank line."""
    result: list[tuple[str, str]] = []
    pending = ""
    for number, line in enumerate(dockerfile.splitlines(), 1):
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        assert keyword in INSTRUCTIONS, f"line {number}: {keyword!r} is not an instruction"
        assert arguments.strip(), f"line {number}: {keyword} without arguments"
        result.append((keyword, arguments.strip()))
        pending = ""
    assert not pending, "a continuation line ends the file"
    return result


def lock_of(root: Path, version: int) -> bytes:
    settings = load_settings(root, env={})
    with open_project(settings, {}) as project:
        job_version = project.registry.jobs.version("pipe", version)
        return read_lock(job_version.manifest, project.store)


def copy_sources(arguments: str) -> list[str]:
    """The sources of a COPY (exec or shell form, flags dropped)."""
    words = [w for w in arguments.split() if not w.startswith("--")]
    rest = " ".join(words)
    parts = json.loads(rest) if rest.startswith("[") else rest.split()
    return list(parts[:-1])


def test_dockerfile(root: Path) -> None:
    files = export(root, "docker")
    assert set(files) == {"Dockerfile", ".dockerignore", "Dockerfile.dockerignore",
                          "requirements.lock"}
    dockerfile = files["Dockerfile"]
    assert dockerfile.startswith("# syntax=docker/dockerfile:1\n")
    steps = instructions(dockerfile)
    assert steps[0] == ("FROM", "python:3.11-slim")
    keyword, arguments = steps[-1]
    assert keyword == "ENTRYPOINT"
    assert json.loads(arguments) == ["nbprod", "job", "run", "pipe", "--stage", "production"]
    users = [a for k, a in steps if k == "USER"]
    assert users and users[-1] not in ("root", "0")
    # Every COPY source exists in the build context (the project folder).
    for keyword, arguments in steps:
        if keyword == "COPY":
            for source in copy_sources(arguments):
                assert (root / source).exists(), source
    # The lock written next to the Dockerfile is the version's, and it is installed.
    assert (root / "deploy" / "requirements.lock").read_bytes() == lock_of(root, 1)
    assert any(k == "COPY" and "deploy/requirements.lock" in a for k, a in steps)
    assert any(k == "RUN" and "pip install -r /tmp/nbprod/requirements.lock" in a
               for k, a in steps)
    # The test project is no Python package: nothing to pip install from it.
    assert not any(k == "RUN" and "--no-deps" in a for k, a in steps)
    assert "docker build -f deploy/Dockerfile" in dockerfile
    assert "runs whatever version the production stage points at" in dockerfile.lower()


def test_dockerignore(root: Path) -> None:
    files = export(root, "docker")
    assert files[".dockerignore"] == files["Dockerfile.dockerignore"]
    patterns = {line.strip() for line in files[".dockerignore"].splitlines()
                if line.strip() and not line.startswith("#")}
    assert {".venv", ".nbprod", ".git"} <= patterns
    assert any("__pycache__" in p for p in patterns)
    assert not any(p.startswith("deploy") for p in patterns)  # the lock is copied from there


def test_the_version_decides_the_lock(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    (root / "requirements.lock").write_text("papermill==2.6.0\n")
    assert build(root) == 1
    (root / "requirements.lock").write_text("papermill==2.7.0\n")
    assert build(root) == 2
    assert export(root, "docker")["requirements.lock"] == "papermill==2.7.0\n"  # newest
    assert export(root, "docker", version=1)["requirements.lock"] == "papermill==2.6.0\n"
    assert (root / "deploy" / "requirements.lock").read_bytes() == lock_of(root, 1)
    assert "version 1" in (root / "deploy" / "Dockerfile").read_text()


def test_a_python_package_is_installed_without_dependencies(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    (root / "pyproject.toml").write_text('[project]\nname = "proj"\nversion = "0.1"\n')
    build(root)
    steps = instructions(export(root, "docker")["Dockerfile"])
    runs = [a for k, a in steps if k == "RUN"]
    assert "pip install --no-deps /app" in runs
    order = [a for k, a in steps if k in ("RUN", "COPY")]
    assert order.index("pip install --no-deps /app") > next(
        i for i, a in enumerate(order) if a.startswith("--chown") and " . /app" in a)


@pytest.mark.parametrize(("lock", "expect"), [
    ("uv.lock", "uv sync --frozen"),
    ("poetry.lock", "poetry install"),
    ("pylock.toml", "uv pip install --system -r /tmp/nbprod/pylock.toml"),
])
def test_lock_formats_use_their_installer(tmp_path: Path, lock: str, expect: str) -> None:
    root = make_project(tmp_path / "proj")
    (root / "pyproject.toml").write_text('[project]\nname = "proj"\nversion = "0.1"\n')
    (root / lock).write_text(f"# a {lock}\n")
    build(root)
    files = export(root, "docker")
    assert files[lock] == f"# a {lock}\n"
    steps = instructions(files["Dockerfile"])
    assert any(k == "RUN" and expect in a for k, a in steps)
    assert any(k == "COPY" and f"deploy/{lock}" in a for k, a in steps)
    if lock in ("uv.lock", "poetry.lock"):  # the tool installs the project itself, after it
        copies = [a for k, a in steps if k == "COPY"]
        assert json.loads(copies[-1].split(" ", 1)[1])[1] == f"/app/{lock}"
        assert " . /app" in copies[-2]


def test_out_outside_the_project_is_refused(root: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="inside the project"):
        export(root, "docker", out="../elsewhere")
    assert not (tmp_path / "elsewhere").exists()
