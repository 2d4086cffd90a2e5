"""A forked kernel's stdout and stderr skip the wait on the IOPub thread when nothing is
pending (kernels/child.py ``_quick_flush``); whatever was written still reaches its cell,
in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nbprod.api import Project

from .helpers import assert_forked, run, succeeded, write_notebook

pytestmark = pytest.mark.slow


def _text(value: str | list[str] | None) -> str | None:
    return "".join(value) if isinstance(value, list) else value


def test_every_output_reaches_its_cell_in_order(project: Project, project_dir: Path) -> None:
    path = write_notebook(
        project_dir / "nb" / "flush.ipynb",
        "import sys\n_nbprod.record('flush', type(sys.stdout).flush.__name__)",
        "print('one', end='')",  # sent by the end-of-cell flush only
        "print('two', end=''); sys.stdout.flush(); sys.stdout.flush(); print('three')",
        "import threading\nt = threading.Thread(target=print, args=('from a thread',))\n"
        "t.start(); t.join()",
        "print('err', file=sys.stderr); sys.stderr.flush(); 6 * 7",
        "sys.stdout.flush(); sys.stderr.flush()")  # nothing pending: returns at once
    record = succeeded(run(project, path))
    assert_forked(record, path)
    assert record.values["flush"] == "quick_flush"
    stored = json.loads(project.store.read_bytes(f"runs/{record.run_id}/notebook.ipynb"))
    code = [c for c in stored["cells"] if c["cell_type"] == "code"]
    outputs = [[(o.get("name"), _text(o.get("text")), _text(o.get("data", {}).get("text/plain")))
                for o in c["outputs"]] for c in code]
    stdout = [[text or "" for name, text, _ in cell if name == "stdout"] for cell in outputs[-5:]]
    assert ["".join(texts) for texts in stdout] == ["one", "twothree\n", "from a thread\n",
                                                    "", ""]
    assert outputs[-2] == [("stderr", "err\n", None), (None, None, "42")]
    assert outputs[-1] == []
