"""A template's spare kernels keep their sockets in folders of the runtime folder: none is
left behind when the template stops, and a template removes what an earlier one of its key
left (a kernel killed after its template had stopped) unless a process still serves it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from nbprod.api import Project
from nbprod.kernels.client import Template

from .helpers import run, succeeded, template_for, wait_for, write_notebook

pytestmark = pytest.mark.slow


def spare_folders(template: Template) -> list[Path]:
    return sorted(template.socket_path.parent.glob(f"k-{template.key}-s*"))


def test_a_stopped_template_leaves_no_spare_folder(fresh_runtime_dir: Path,
                                                    project: Project) -> None:
    path = write_notebook(project.root / "spare.ipynb", "import json\nx = json.dumps(1)")
    succeeded(run(project, path))
    template = template_for(path)
    # the template forked a spare for the next run like this one, in a folder of its own
    wait_for(lambda: spare_folders(template), 30, "the spare's folder")
    succeeded(run(project, path))  # served by the spare; the next spare is forked
    template.stop()
    assert spare_folders(template) == []


def test_a_new_template_removes_dead_spare_folders_only(fresh_runtime_dir: Path) -> None:
    template = Template.for_modules(["email.mime.text"])
    runtime = template.socket_path.parent
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    dead = runtime / f"k-{template.key}-sdead0001"
    live = runtime / f"k-{template.key}-slive0001"
    other = runtime / "k-0123456789abcdef-sdead0002"  # another key's: not this template's
    for folder in (dead, live, other):
        folder.mkdir(mode=0o700)
        (folder / "kernel.json").write_text("{}")
    gone = socket.socket(socket.AF_UNIX)
    gone.bind(str(dead / "k-1"))
    gone.close()  # the socket file stays; nobody listens on it
    serving = socket.socket(socket.AF_UNIX)
    serving.bind(str(live / "k-1"))
    serving.listen()
    try:
        assert template.ensure(wait=True)
        assert not dead.exists()
        assert live.is_dir() and other.is_dir()
    finally:
        serving.close()
        template.stop()
