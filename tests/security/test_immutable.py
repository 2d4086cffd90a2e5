"""Immutable means immutable (issue 9 §3): a kernel reads verified, read-only copies of an
earlier step's files, and a corrupt one fails the downstream step naming the file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ..conftest import run_json
from .conftest import jobs_project

pytestmark = pytest.mark.slow


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    return jobs_project(tmp_path / "immutable")


def _append_cell(notebook: Path, source: str) -> None:
    data = json.loads(notebook.read_text())
    data["cells"].append({"cell_type": "code", "id": f"c{len(data['cells'])}", "metadata": {},
                          "execution_count": None, "outputs": [], "source": source})
    notebook.write_text(json.dumps(data))


def test_a_kernel_cannot_change_an_earlier_runs_files(flow: Path) -> None:
    code, made = run_json(flow, "run", "make")
    assert code == 0, made
    data = next(a for a in made["artifacts"] if a["name"] == "files/data.txt")
    assert Path(data["path"]).stat().st_mode & 0o777 == 0o444  # read-only on disk
    # A notebook that tries hard: make the file writable again, then overwrite it.
    _append_cell(flow / "notebooks" / "use.ipynb",
                 "import os\n"
                 "path = nbprod.step_path('make', 'data.txt')\n"
                 "nbprod.record('was_writable', os.access(path, os.W_OK) and os.getuid() != 0)\n"
                 "os.chmod(path, 0o644)\n"
                 "with open(path, 'w') as handle:\n"
                 "    handle.write('changed by a later step')")
    code, used = run_json(flow, "run", "use")
    assert code == 0, used
    assert used["values"]["was_writable"] is False
    stored = Path(data["path"]).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == data["sha256"]  # the store kept its file
    assert run_json(flow, "show", made["run_id"], "--verify")[0] == 0


def test_a_corrupt_upstream_file_fails_the_step_naming_it(flow: Path) -> None:
    code, made = run_json(flow, "run", "make")
    assert code == 0, made
    data = next(a for a in made["artifacts"] if a["name"] == "files/data.txt")
    stored = Path(data["path"])
    stored.chmod(0o644)
    stored.write_text("tampered outside nbprod")
    code, used = run_json(flow, "run", "use")
    assert code == 4, used
    assert used["state"] == "failed" and used["failure"]["kind"] == "infra"
    message = used["failure"]["message"]
    assert f"runs/{made['run_id']}/files/data.txt is corrupt" in message
    assert data["sha256"] in message
    assert hashlib.sha256(b"tampered outside nbprod").hexdigest() in message
