"""What a notebook hands back: nbprod.record / output_path (kernel side), read_values (runner)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nbprod.execute.capture import (
    CAPTURE_ENV,
    RecordError,
    output_path,
    produced_files,
    read_values,
    record,
)


@pytest.fixture
def capture_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The run's capture folder, named in the environment as the runner does."""
    folder = tmp_path / "capture"
    monkeypatch.setenv(CAPTURE_ENV, str(folder))
    monkeypatch.chdir(tmp_path)
    return folder


def _lines(folder: Path) -> list[dict[str, Any]]:
    text = (folder / "values.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_record_appends_to_values_jsonl(capture_dir: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    record("accuracy", 0.93)
    record("rows", 1200)
    record("label", "héllo")
    record("ok", True)
    record("nothing", None)
    record("nested", {"a": [1, 2.5, "x"], "b": {"c": None}})
    record("pair", (1, 2))

    assert _lines(capture_dir) == [
        {"name": "accuracy", "value": 0.93},
        {"name": "rows", "value": 1200},
        {"name": "label", "value": "héllo"},
        {"name": "ok", "value": True},
        {"name": "nothing", "value": None},
        {"name": "nested", "value": {"a": [1, 2.5, "x"], "b": {"c": None}}},
        {"name": "pair", "value": [1, 2]},
    ]
    assert capsys.readouterr().err == ""  # quiet under `nbprod run`
    assert not (capture_dir.parent / "nbprod-local").exists()


def test_numpy_scalars_and_small_arrays_are_converted(capture_dir: Path) -> None:
    record("i", np.int64(3))
    record("f32", np.float32(0.5))
    record("f64", np.float64(0.25))
    record("b", np.bool_(True))
    record("arr", np.array([1, 2, 3]))
    record("matrix", np.array([[1.5, 2.0], [3.0, 4.0]]))
    record("zero_d", np.array(7))
    record("mixed", {"n": np.int32(2), "xs": [np.float64(1.0)]})

    values = read_values(capture_dir)

    assert values == {"i": 3, "f32": 0.5, "f64": 0.25, "b": True, "arr": [1, 2, 3],
                      "matrix": [[1.5, 2.0], [3.0, 4.0]], "zero_d": 7,
                      "mixed": {"n": 2, "xs": [1.0]}}
    assert type(values["i"]) is int
    assert type(values["b"]) is bool
    assert type(values["f32"]) is float


def test_non_finite_floats_are_recorded_as_strings(capture_dir: Path) -> None:
    record("a", float("nan"))
    record("b", [float("inf"), np.float64("-inf")])

    assert read_values(capture_dir) == {"a": "nan", "b": ["inf", "-inf"]}


@pytest.mark.parametrize("value", [object(), {1, 2}, b"bytes", np.zeros(10_001),
                                   Path("model.joblib"), [1, object()]])
def test_non_plain_value_tells_to_use_output_path(capture_dir: Path, value: Any) -> None:
    with pytest.raises(RecordError) as info:
        record("thing", value)

    message = str(info.value)
    assert message.startswith("nbprod.record('thing'): ")
    assert "is not plain data" in message
    assert "nbprod.output_path" in message
    assert not (capture_dir / "values.jsonl").exists()


def test_too_deep_value_is_refused(capture_dir: Path) -> None:
    value: Any = 1
    for _ in range(30):
        value = [value]

    with pytest.raises(RecordError) as info:
        record("deep", value)

    assert "nested too deeply" in str(info.value)


@pytest.mark.parametrize("name", ["", "a b", "a/b", "x" * 201, "é", 5, None, "a:b"])
def test_bad_names_are_refused(capture_dir: Path, name: Any) -> None:
    with pytest.raises(RecordError) as info:
        record(name, 1)

    assert str(info.value).startswith(f"nbprod.record: name {name!r} must be")
    assert not (capture_dir / "values.jsonl").exists()


@pytest.mark.parametrize("call", [record, output_path])
def test_name_with_trailing_newline_is_refused(capture_dir: Path, call: Any) -> None:
    args = ("loss\n", 1) if call is record else ("model.bin\n",)

    try:
        call(*args)
    except RecordError:
        return
    raise AssertionError(f"{call.__name__} accepted {args[0]!r}")


def test_record_error_is_a_value_error() -> None:
    assert issubclass(RecordError, ValueError)


def test_interactive_record_goes_beside_the_notebook_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(CAPTURE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)

    record("accuracy", 0.5)

    local = tmp_path / "nbprod-local"
    assert _lines(local) == [{"name": "accuracy", "value": 0.5}]
    err = capsys.readouterr().err
    assert "nbprod: recorded accuracy = 0.5" in err
    assert str(local / "values.jsonl") in err
    assert "not under `nbprod run`" in err


def test_interactive_output_path_goes_beside_the_notebook_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(CAPTURE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)

    path = output_path("plots/roc.png")

    assert path == tmp_path / "nbprod-local" / "files" / "plots" / "roc.png"
    assert path.parent.is_dir()
    assert "nbprod: output plots/roc.png goes to" in capsys.readouterr().err


def test_output_path_under_a_run(capture_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = output_path("plots/roc.png")
    path.write_bytes(b"png")
    output_path("model.joblib").write_bytes(b"model")

    assert path == capture_dir / "files" / "plots" / "roc.png"
    assert capsys.readouterr().err == ""
    assert [(name, p.read_bytes()) for name, p in produced_files(capture_dir)] == [
        ("model.joblib", b"model"), ("plots/roc.png", b"png")]


@pytest.mark.parametrize("name", ["../x", "/x", "a/../b", "", "a//b", "./a", "a/", "..",
                                  "a b", "a\\b", 3])
def test_output_path_refuses_names_that_leave_the_folder(capture_dir: Path,
                                                         name: Any) -> None:
    with pytest.raises(RecordError) as info:
        output_path(name)

    assert str(info.value).startswith(f"nbprod.output_path: {name!r} must be a relative name")
    assert not (capture_dir / "files").exists()


def test_produced_files_without_outputs(tmp_path: Path) -> None:
    assert produced_files(tmp_path / "nothing") == []


# -- read_values ------------------------------------------------------------------------


def _scrap(name: str, data: Any, encoder: str = "json") -> dict[str, Any]:
    return {"output_type": "display_data", "metadata": {"scrapbook": {"name": name}},
            "data": {"application/scrapbook.scrap.json+json": {
                "name": name, "data": data, "encoder": encoder, "version": 1}}}


def test_read_values_merges_glued_scraps_and_records(capture_dir: Path) -> None:
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": "hello"},
        _scrap("a", 1),
        _scrap("b", {"x": [1, 2]}),
        _scrap("t", "text value", encoder="text"),
        _scrap("df", "ignored", encoder="pandas"),
        {"output_type": "display_data",
         "data": {"application/papermill.record+json": {"old_style": 3}}},
        {"output_type": "execute_result", "data": {"text/plain": "1"}},
        "not an output",
    ]
    record("a", 2)  # a later nbprod.record of a glued name wins
    record("c", "recorded")

    assert read_values(capture_dir, outputs) == {
        "a": 2, "b": {"x": [1, 2]}, "t": "text value", "old_style": 3, "c": "recorded"}


def test_recording_a_name_again_replaces_it(capture_dir: Path) -> None:
    record("loss", 0.9)
    record("loss", 0.1)

    assert read_values(capture_dir) == {"loss": 0.1}


def test_truncated_last_line_is_skipped(capture_dir: Path) -> None:
    record("a", 1)
    record("b", [1, 2, 3])
    with (capture_dir / "values.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"name": "c", "value": [1, 2')  # the kernel died mid-write

    assert read_values(capture_dir) == {"a": 1, "b": [1, 2, 3]}


def test_foreign_lines_are_ignored(capture_dir: Path) -> None:
    capture_dir.mkdir()
    (capture_dir / "values.jsonl").write_text(
        '[1, 2]\n"text"\n{"value": 1}\n\n{"name": "ok", "value": 5}\n{"name": 7}\n',
        encoding="utf-8")

    assert read_values(capture_dir) == {"ok": 5, "7": None}


def test_read_values_of_an_empty_capture_folder(tmp_path: Path) -> None:
    assert read_values(tmp_path / "missing") == {}
    assert read_values(tmp_path / "missing", [_scrap("g", 1.5)]) == {"g": 1.5}
