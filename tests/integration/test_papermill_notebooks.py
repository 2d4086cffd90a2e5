"""Real papermill notebooks run unchanged: computed defaults, imports and magics in the
parameters cell, no kernelspec, and nbformat 4.4 files that carry cell ids."""

from __future__ import annotations

import pytest

from nbprod.api import Project

from .consistency import assert_consistent
from .test_final_states import run

pytestmark = pytest.mark.slow


def test_runs_with_no_flag_keeping_computed_defaults(project: Project) -> None:
    record = run(project, "papermill_style.ipynb")

    assert record.state == "succeeded", record.failure
    assert record.values == {"seed": 42, "data_dir": "./data", "tmp_dir_kind": "TemporaryDirectory",
                             "n_rows": 10, "threshold": 0.5, "label": None}
    assert record.parameters == {}
    contract = {p["name"]: p for p in record.contract}
    assert contract["data_dir"]["computed"] == 'os.path.join(base_dir, "data")'
    assert contract["n_rows"]["type"] == "int" and contract["n_rows"]["computed"] is None
    assert_consistent(project)


def test_literal_parameter_is_coerced_and_checked(project: Project) -> None:
    record = run(project, "papermill_style.ipynb", params={"n_rows": "25", "threshold": "1"})
    assert record.state == "succeeded", record.failure
    assert record.values["n_rows"] == 25 and record.values["threshold"] == 1.0

    refused = run(project, "papermill_style.ipynb", params={"n_rows": "many"})
    assert refused.state == "failed" and refused.failure is not None
    assert refused.failure.kind == "invalid_input"
    assert "parameter 'n_rows' expects int, got 'many' (from -p)" in refused.failure.message


def test_computed_parameter_can_be_set(project: Project) -> None:
    record = run(project, "papermill_style.ipynb",
                 params={"data_dir": "/mnt/data", "SEED": "7", "tmp_dir": "/tmp/x"})

    assert record.state == "succeeded", record.failure
    assert record.values["data_dir"] == "/mnt/data"
    assert record.values["seed"] == 7  # read as papermill reads an untyped value
    assert record.values["tmp_dir_kind"] == "str"
    assert record.parameters == {"data_dir": "/mnt/data", "SEED": 7, "tmp_dir": "/tmp/x"}


def test_misspelled_name_is_still_refused(project: Project) -> None:
    record = run(project, "papermill_style.ipynb", params={"n_row": "5"})

    assert record.state == "failed" and record.failure is not None
    assert record.failure.kind == "invalid_input"
    assert "unknown parameter 'n_row' (from -p); did you mean 'n_rows'?" in record.failure.message


def test_nbformat_44_file_with_cell_ids_runs_with_a_note(project: Project) -> None:
    record = run(project, "v44_with_ids.ipynb", params={"x": "2"})

    assert record.state == "succeeded", record.failure
    assert record.values == {"x3": 6}
    assert record.note is not None and "marked nbformat 4.4 but its cells carry ids" in record.note
