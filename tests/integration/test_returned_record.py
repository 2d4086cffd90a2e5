"""The record a run returns is the row it committed, as the registry reads it back.

``run_notebook`` builds its returned record from what it wrote instead of reading the row
again (when every value would come back unchanged), so each test compares the two whole,
as JSON: ``3 == 3.0`` in Python, not in ``nbprod run --json``'s output.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbprod import api
from nbprod.api import GivenValue, Project, RunRequest, open_project
from nbprod.config import load_settings
from nbprod.records import RunRecord

from ..conftest import postgres_database, write_notebook

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def project(request: pytest.FixtureRequest, project_dir: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """The project on the embedded SQLite registry, then on PostgreSQL (whose JSON and
    timestamps come back through another driver)."""
    monkeypatch.chdir(project_dir)
    with contextlib.ExitStack() as stack:
        env = {}
        if request.param == "postgres":
            env["NBPROD_REGISTRY"] = stack.enter_context(postgres_database("nbprod"))
        opened = stack.enter_context(open_project(load_settings(project_dir, env=env),
                                                  dict(os.environ)))
        assert str(opened.registry.url).startswith(request.param)
        yield opened


def _run(project: Project, notebook: Path, **params: str) -> RunRecord:
    given = {k: GivenValue(v, source="-p", raw=True) for k, v in params.items()}
    return api.run_notebook(project, RunRequest(notebook.name, parameters=given))


def _same_as_stored(project: Project, returned: RunRecord) -> None:
    stored = api.get_run(project, returned.run_id)
    assert json.dumps(returned.to_json(), sort_keys=False) == \
        json.dumps(stored.to_json(), sort_keys=False)
    assert returned == stored


@pytest.mark.parametrize("values", [
    # recorded out of name order; numbers that SQLite keeps as they are
    '{"zeta": 1.5, "alpha": 7, "mid": "text", "flag": True, "none": None}',
    # containers hold their numbers as JSON text: integral floats and big ints survive there
    '{"series": [1.0, 2.5, 3], "nested": {"a": [2.0], "b": {"c": 10**30}}}',
    # a top-level integral float comes back an int, an int past 64 bits a float: read back
    '{"whole": 3.0, "huge": 2**70, "small": -5}',
], ids=["scalars", "containers", "numbers-read-back"])
def test_a_returned_record_is_the_stored_one(project: Project, values: str) -> None:
    notebook = write_notebook(
        project.root / "values.ipynb", "scale = 1",
        "import nbprod\n"
        f"for name, value in {values}.items():\n"
        "    nbprod.record(name, value)",
        "from pathlib import Path\n"
        "Path(nbprod.output_path('b.txt')).write_text('b')\n"
        "Path(nbprod.output_path('a.txt')).write_text('a')")
    returned = _run(project, notebook, scale="2")
    assert returned.state == "succeeded", returned.failure
    _same_as_stored(project, returned)


def test_a_failed_run_returns_its_stored_failure(project: Project) -> None:
    notebook = write_notebook(project.root / "fails.ipynb", "x = 1",
                              "import nbprod\nnbprod.record('before', 0.25)",
                              "raise ValueError(f'bad x: {x}')")
    returned = _run(project, notebook, x="4")
    assert returned.state == "failed" and returned.failure is not None
    assert returned.failure.ename == "ValueError"
    _same_as_stored(project, returned)
