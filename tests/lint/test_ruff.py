"""lint/ruff.py: ruff runs in the background with its report in a temporary file; a ruff
that fails says so in one line, and one nobody waited for is stopped."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import patch

import nbformat
import pytest

from nbprod.errors import InfraError
from nbprod.lint.ruff import RuffRun


def _notebook(path: Path, source: str) -> Path:
    path.write_text(nbformat.writes(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import os"), nbformat.v4.new_code_cell(source)])))
    return path


def test_findings_name_the_shown_path_and_the_cell(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "a.ipynb", "print(undefined_name)")

    with RuffRun([path], ["F821", "F401"], {str(path): "notebooks/a.ipynb"}) as ruff:
        found = ruff.result()

    assert {(f.path, f.code, f.cell, f.line) for f in found["notebooks/a.ipynb"]} == {
        ("notebooks/a.ipynb", "F401", 0, 1), ("notebooks/a.ipynb", "F821", 1, 1)}


def test_a_ruff_that_fails_raises_one_line(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "a.ipynb", "x = 1")

    with RuffRun([path], ["NOT-A-CODE"], {str(path): "a.ipynb"}) as ruff, \
            pytest.raises(InfraError, match=r"ruff failed \(exit 2\)"):
        ruff.result()


def test_a_ruff_nobody_waited_for_is_stopped(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "a.ipynb", "x = 1")

    with RuffRun([path], ["F821"], {str(path): "a.ipynb"}) as ruff:
        process = ruff._proc
        assert process is not None

    assert process.returncode is not None
    assert ruff._files == []


DATA = Path(__file__).resolve().parents[1] / "data"


def _both_reports(paths: list[Path]) -> tuple[dict[str, list[object]], dict[str, list[object]]]:
    shown = {str(p): p.as_posix() for p in paths}
    with RuffRun(paths, ["F821", "F401", "F811", "E9"], shown) as ruff:
        with patch.object(RuffRun, "_json_report", side_effect=AssertionError("fell back")):
            concise = ruff.result()
        from_json = ruff._json_report()
    return ({k: sorted(v, key=repr) for k, v in concise.items()},
            {k: sorted(v, key=repr) for k, v in from_json.items()})


def test_the_concise_report_reads_as_the_json_report(tmp_path: Path) -> None:
    """Every notebook the tests use (broken JSON, syntax errors, magics, v4.4, findings with
    fixes), in folders whose names look like a finding's location."""
    odd = tmp_path / "a:cell 2:3:4: F401 x" / "ünï cödé"
    odd.mkdir(parents=True)
    paths = sorted(DATA.rglob("*.ipynb"))
    odd_one = _notebook(odd / "b:1:1: E999 y.ipynb", "print(undefined_name)\nimport sys")
    paths += [odd_one, _notebook(odd / "c.ipynb", "def f(:\n    pass"),
              # one file's name, then ":" and what reads as a location, names another file
              _notebook(odd / "d", "import json"),
              _notebook(odd / "d:cell 1:1:8: F401 x.ipynb", "print(also_undefined)")]
    concise, from_json = _both_reports(paths)

    assert concise == from_json
    codes = {f.code for found in concise.values() for f in found}  # type: ignore[attr-defined]
    assert {"F401", "F821", "E999"} <= codes
    assert {f.cell for f in concise[odd_one.as_posix()]} == {0, 1}  # type: ignore[attr-defined]


def test_a_line_that_does_not_read_falls_back_to_the_json_report(tmp_path: Path) -> None:
    from nbprod.lint.ruff import _concise

    path = _notebook(tmp_path / "a.ipynb", "print(undefined_name)")
    given = {str(path): "a.ipynb"}
    line = f"{str(path)[1:]}:cell 2:1:7: F821 Undefined name `undefined_name`\n".encode()

    assert [f.code for f in _concise(line, given)["a.ipynb"]] == ["F821"]  # type: ignore[index]
    assert _concise(line + b"a second line of the message\n", given) is None
    assert _concise(line.replace(b"a.ipynb", b"other.ipynb"), given) is None
    assert _concise(line.replace(b"F821 ", b"F821"), given) is None


def test_ruff_beside_the_rules_gets_the_threads_it_is_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each share's ruff runs with the cores the shares leave (RAYON_NUM_THREADS), unless
    the user chose a number already; its findings are the same."""
    path = _notebook(tmp_path / "a.ipynb", "print(undefined_name)")
    monkeypatch.delenv("RAYON_NUM_THREADS", raising=False)
    shown = {str(path): "a.ipynb"}
    one = RuffRun([path], ["F821", "F401"], shown, threads=1)
    assert (one._env() or {}).get("RAYON_NUM_THREADS") == "1"
    assert RuffRun([path], ["F821"], shown)._env() is None

    with one:
        single = one.result()
    with RuffRun([path], ["F821", "F401"], shown) as ruff:
        assert ruff.result() == single

    monkeypatch.setenv("RAYON_NUM_THREADS", "3")
    assert RuffRun([path], ["F821"], shown, threads=1)._env() is None  # ruff inherits "3"
