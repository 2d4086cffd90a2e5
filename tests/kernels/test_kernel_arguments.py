"""What every run's kernel is started with (engine.KERNEL_ARGUMENTS), forked or plain: the
input history in memory, and no pause before each execute_reply, with every output of every
cell still in the stored notebook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nbprod.api import Project

from .helpers import run, succeeded, write_notebook

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_kernels_skip_the_reply_pause_and_keep_every_output(
        project: Project, project_dir: Path, fast: bool) -> None:
    path = write_notebook(
        project_dir / "nb" / "args.ipynb",
        "kernel = get_ipython().kernel\n"
        "nbprod = __import__('nbprod')\n"
        "nbprod.record('sleep', kernel._execute_sleep)\n"
        "nbprod.record('history', str(get_ipython().history_manager.hist_file))",
        *(f"import sys\nfor i in range(50):\n    print('cell {n} line', i, flush=True)\n"
          f"sys.stderr.write('cell {n} last')\n'shown {n}'" for n in range(4)))
    record = succeeded(run(project, path, fast=fast))
    assert record.values["sleep"] == 0 and record.values["history"] == ":memory:"
    stored = json.loads(project.store.read_bytes(f"runs/{record.run_id}/notebook.ipynb"))
    for n, cell in enumerate(stored["cells"][-4:]):
        streams = {name: "".join("".join(o["text"]) for o in cell["outputs"]
                                 if o["output_type"] == "stream" and o["name"] == name)
                   for name in ("stdout", "stderr")}
        assert streams["stdout"].splitlines() == [f"cell {n} line {i}" for i in range(50)]
        assert streams["stderr"] == f"cell {n} last"
        [result] = [o for o in cell["outputs"] if o["output_type"] == "execute_result"]
        assert "".join(result["data"]["text/plain"]) == f"'shown {n}'"
