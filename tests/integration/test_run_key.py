"""One run key, computed from the prepared run; a --cache lookup that fails says why
(issue 9 §4: the key was also worked out a second way, from the raw JSON, and any problem
there was a silent miss)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import run_json, write_notebook

pytestmark = pytest.mark.slow


def test_a_run_with_a_secret_is_found_by_its_key(project_dir: Path) -> None:
    write_notebook(project_dir / "secretive.ipynb",
                   'token: str = ""  # nbprod: secret\nn: int = 1',
                   "import nbprod\nnbprod.record('n', n)")
    env = {"NBPROD_SECRET_TOKEN": "k3y-for-the-cache"}
    code, first = run_json(project_dir, "run", "secretive.ipynb", "-p", "n", "2", "--cache",
                           env=env)
    assert code == 0 and not first["cache_hit"], first
    code, second = run_json(project_dir, "run", "secretive.ipynb", "-p", "n", "2", "--cache",
                            env=env)
    assert code == 0, second
    assert second["cache_hit"] and second["run_id"] == first["run_id"]


def test_a_cache_lookup_that_cannot_be_prepared_says_why(project_dir: Path) -> None:
    code, record = run_json(project_dir, "run", "ok.ipynb", "-p", "x", "seven", "--cache")
    assert code == 2, record
    assert record["state"] == "failed" and record["failure"]["kind"] == "invalid_input"
    assert "parameter 'x' expects int, got 'seven' (from -p)" in record["failure"]["message"]
