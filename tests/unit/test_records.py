"""Run records and errors: ids, JSON shapes, exit codes and one-line messages."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from nbprod import errors
from nbprod.records import (
    FAILURE_KINDS,
    ArtifactRef,
    Failure,
    Lineage,
    RunRecord,
    new_run_id,
)

_ID = re.compile(r"^\d{8}-\d{6}-\d{3}-[0-9a-hjkmnp-tv-z]{6}$")


def test_run_id_shape_and_time() -> None:
    now = dt.datetime(2026, 11, 26, 5, 6, 6, 123456, tzinfo=dt.UTC)

    run_id = new_run_id(now)

    assert _ID.match(run_id)
    assert run_id.startswith("20261126-050606-123-")


def test_run_ids_are_unique_and_sort_by_time() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ids = [new_run_id(start + dt.timedelta(milliseconds=i)) for i in range(0, 5000, 7)]

    assert ids == sorted(ids)
    # 2000 ids in one millisecond share the stamp; their 30 random bits collide somewhere
    # with probability 0.0019 (birthday bound), so asking for 2000 distinct ids failed
    # about once in 540 runs (CI did). Three or more have probability 1e-9;
    # a weak or constant random source gives hundreds.
    same_millisecond = [new_run_id(start) for _ in range(2000)]
    assert len(same_millisecond) - len(set(same_millisecond)) <= 2


def test_failure_json_round_trip() -> None:
    failure = Failure(kind="cell_error", message="ZeroDivisionError in cell 3", cell_index=3,
                      ename="ZeroDivisionError", evalue="division by zero")

    assert Failure.from_json(failure.to_json()) == failure
    assert set(failure.to_json()) == {"kind", "message", "cell_index", "ename", "evalue",
                                      "exit_code", "signal", "check"}
    assert failure.kind in FAILURE_KINDS


def test_run_record_json() -> None:
    started = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    record = RunRecord(
        run_id="20260101-120000-000-abcdef", notebook="nbs/train.ipynb",
        notebook_version="v" * 64, state="succeeded", started_at=started,
        ended_at=started + dt.timedelta(seconds=90), parameters={"alpha": 0.5},
        values={"acc": 0.9},
        artifacts=(ArtifactRef("files/model.joblib", "/s/model.joblib", "f" * 64, 10),),
        lineage=Lineage(git_commit="c" * 40, git_dirty=False, input_digests={"a": "b"}))

    data = record.to_json()

    assert data["duration"] == 90.0
    assert data["started_at"] == "2026-01-01T12:00:00+00:00"
    assert data["failure"] is None
    assert data["artifacts"] == [{"name": "files/model.joblib", "path": "/s/model.joblib",
                                  "sha256": "f" * 64, "size": 10}]
    assert data["lineage"]["git_commit"] == "c" * 40
    assert data["lineage"]["input_digests"] == {"a": "b"}
    assert record.artifact("files/model.joblib") is record.artifacts[0]
    assert record.artifact("missing") is None


def test_running_record_has_no_duration() -> None:
    record = RunRecord(run_id="x", notebook="n", notebook_version=None, state="running",
                       started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))

    assert record.duration is None
    assert record.to_json()["ended_at"] is None


@pytest.mark.parametrize(("error", "code"), [
    (errors.NotebookInvalid("a.ipynb", "bad"), 2),
    (errors.ParameterError("bad"), 2),
    (errors.SettingsError("bad"), 2),
    (errors.KernelNotFound("bad"), 2),
    (errors.NotFound("bad"), 2),
    (errors.NotebookFailed("bad", run_id="r", kind="cell_error"), 3),
    (errors.RegistryError("bad"), 4),
    (errors.StoreError("bad"), 4),
    (errors.IntegrityError("k", "a" * 64, "b" * 64), 4),
    (errors.KernelStartError("bad"), 4),
    (errors.NbprodError("bad"), 70),
])
def test_exit_codes(error: errors.NbprodError, code: int) -> None:
    assert error.exit_code == code
    assert isinstance(error, errors.NbprodError)


def test_one_line_joins_message_and_hint() -> None:
    assert errors.NotebookInvalid("a.ipynb", "no such file").one_line() == \
        "a.ipynb: no such file"
    assert errors.SettingsError("bad", hint="fix it").one_line() == "bad; fix it"
