"""Under .ci/run (NBPROD_REQUIRE_SERVICES=1) a skip fails unless tests/skips-allowed.txt allows
it, and the session says how many were skipped (issue 9: no silent skips in CI)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent.parent
pytestmark = pytest.mark.slow


def _pytest(folder: Path, require: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NBPROD_REQUIRE_SERVICES": "1" if require else "0"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "no:xdist", str(folder)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_a_skip_fails_in_ci_unless_allowed(tmp_path: Path) -> None:
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "skips-allowed.txt").write_text(
        "# allowed\nno docker engine :: CI has no Docker engine\n")
    (tmp_path / "test_x.py").write_text(
        "import pytest\n"
        "def test_needs_docker():\n    pytest.skip('no docker engine here')\n"
        "def test_needs_a_tool():\n    pytest.skip('the frobnicate tool is missing')\n"
        "@pytest.mark.xfail(reason='known')\ndef test_known():\n    assert False\n")
    strict = _pytest(tmp_path, require=True)
    assert strict.returncode == 1, strict.stdout
    assert "skipped under NBPROD_REQUIRE_SERVICES=1 (.ci/run): the frobnicate tool is " \
           "missing" in strict.stdout
    assert "1 failed" in strict.stdout and "1 skipped" in strict.stdout
    assert "nbprod: 1 skipped (1 allowed in tests/skips-allowed.txt)" in strict.stdout
    relaxed = _pytest(tmp_path, require=False)
    assert relaxed.returncode == 0 and "nbprod: 2 skipped (0 allowed" in relaxed.stdout
