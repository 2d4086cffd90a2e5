"""A spare kernel tells its kernel_info ahead (nbprod/kernels/greeting.py): its run is not
asked for it, only welcomed on IOPub; a spare that has not told it is asked, as any kernel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nbprod.api import Project
from nbprod.rundir import runtime_dir

from .helpers import (
    assert_forked,
    count_requests,
    run,
    succeeded,
    template_for,
    wait_for,
    write_notebook,
)

pytestmark = pytest.mark.slow

VERSION = "import sys\nprint('.'.join(map(str, sys.version_info[:3])))"


def _greetings(path: Path) -> list[Path]:
    return sorted(runtime_dir().glob(f"k-{template_for(path).key}-s*/greeting.json"))


def _printed_and_info(project: Project, run_id: str) -> tuple[str, dict[str, Any]]:
    stored = json.loads(project.store.read_bytes(f"runs/{run_id}/notebook.ipynb"))
    printed = "".join("".join(o.get("text", [])) for c in stored["cells"]
                      if c["cell_type"] == "code" for o in c["outputs"]).strip()
    return printed, stored["metadata"]["language_info"]


@pytest.mark.parametrize("told", [True, False], ids=["told", "not-told"])
def test_a_spare_that_told_its_kernel_info_is_not_asked(
        project: Project, project_dir: Path, monkeypatch: Any, told: bool) -> None:
    path = write_notebook(project_dir / "nb" / f"greet-{told}.ipynb", VERSION)
    succeeded(run(project, path))  # the template now has a spare for the next such run
    greetings = wait_for(lambda: _greetings(path), 30, "the spare's greeting")
    data = json.loads(greetings[-1].read_text())
    assert data["iopub_welcome"] is True  # ipykernel 7's XPUB IOPub
    assert data["kernel_info"]["language_info"]["name"] == "python"
    if not told:
        for greeting in greetings:
            greeting.unlink()
    asked = count_requests(monkeypatch)
    record = succeeded(run(project, path))
    assert_forked(record, path)
    assert "execute" in asked
    if told:
        assert "kernel_info" not in asked, asked
    else:  # asked before the cells (more than once on a loaded machine: fastclient.py)
        assert "kernel_info" in asked and asked.index("kernel_info") < asked.index("execute")
    printed, info = _printed_and_info(project, record.run_id)
    assert info["pygments_lexer"] == "ipython3"
    assert info["version"] == printed  # the kernel's own


def test_a_greeting_file_that_is_not_a_greeting_is_not_taken(tmp_path: Path) -> None:
    from nbprod.kernels import greeting

    connection = {"transport": "ipc", "ip": str(tmp_path / "k")}
    for text in ("[1, 2]", "{", '{"iopub_welcome": true, "kernel_info": {}}'):
        (tmp_path / "greeting.json").write_text(text)
        assert greeting.read(connection) is None  # the kernel is asked instead
