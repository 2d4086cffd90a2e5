"""What every ``nbprod`` command pays before it reaches the warm nbprod: the launcher imports
a few standard-library modules and nbprod's smallest ones, nothing else."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_PROBE = """
import json, sys
before = set(sys.modules)
import nbprod.cli.launch
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_the_launcher_imports_little() -> None:
    proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                          check=True)
    loaded = set(json.loads(proc.stdout))
    ours = {m for m in loaded if m.split(".")[0] == "nbprod"}
    assert ours == {"nbprod", "nbprod.about", "nbprod.cli", "nbprod.cli.launch",
                    "nbprod.errors", "nbprod.rundir"}
    # typing, and hashlib with OpenSSL: a twentieth of a quick command each time
    assert not loaded & {"typing", "hashlib", "_hashlib", "click"}


def test_the_notebook_functions_are_imported_on_first_use() -> None:
    probe = ("import sys, nbprod; lazy = 'nbprod.execute.capture' not in sys.modules; "
             "from nbprod import record, step_path; import nbprod as n; "
             "print(lazy, record is n.record, callable(step_path), n.__version__ != '')")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.split() == ["True", "True", "True", "True"]


def test_a_template_for_a_notebook_importing_nbprod_preloads_its_record_functions(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from nbprod.kernels import preload
    from nbprod.kernels.preload import plan_preload

    # as from a wheel (an editable install's nbprod is not under site-packages: not preloaded)
    monkeypatch.setattr(preload, "_installed", lambda name, roots: True)
    plan = plan_preload(["import nbprod\nnbprod.record('x', 1)"])
    assert {"nbprod", "nbprod.execute.capture"} <= set(plan.modules)
    assert "nbprod.execute.capture" not in plan_preload(["import json"]).modules


_RUN_PATH = """
import json, sys
from nbprod.cli.warm import _preload
_preload()
before = set(sys.modules)
# what a run imports on first use to choose, fork and talk to its kernel (execute/fast.py,
# execute/kernel.py, the client class execute/engine.py names)
from nbprod.execute.fast import choose_kernel
from nbprod.kernels.client import Template, env_digest
from nbprod.kernels.preload import plan_preload
from nbprod.kernels.provisioner import provisioner_metadata
from traitlets.utils.importstring import import_item
import_item("nbprod.kernels.fastclient.FastKernelClient")
print(json.dumps(sorted(m for m in set(sys.modules) - before if m.startswith("nbprod"))))
"""


def test_the_warm_nbprod_preloads_what_a_run_imports_to_start_its_kernel() -> None:
    """Each `nbprod run` is a fresh fork of the warm nbprod: a module it imports costs ~1 ms
    there (the fast-kernel modules were ~11 ms of every run)."""
    proc = subprocess.run([sys.executable, "-c", _RUN_PATH], capture_output=True, text=True,
                          check=True, timeout=120)
    assert json.loads(proc.stdout.splitlines()[-1]) == []
