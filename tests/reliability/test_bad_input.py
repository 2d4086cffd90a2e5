"""Bad input: every malformed notebook, parameter, file name or path is one clear line, exit 2,
a recorded invalid_input run (when a run could be recorded), and never a traceback."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ..conftest import DATA, run_cli, run_json, write_notebook

pytestmark = pytest.mark.slow
OK = json.loads((DATA / "ok.ipynb").read_text())


def _variant(path: Path, minor: int | None = None, ids: bool | None = None,
             **metadata: Any) -> Path:
    nb = copy.deepcopy(OK)
    if minor is not None:
        nb["nbformat_minor"] = minor
    for i, cell in enumerate(nb["cells"]):
        if ids is False:
            cell.pop("id", None)
        elif ids:
            cell["id"] = f"cell-{i}"
    nb["metadata"].update(metadata)
    path.write_text(json.dumps(nb))
    return path


def _refused(project_dir: Path, seen: Any, *args: str, expect: str, **kwargs: Any) -> None:
    proc = run_cli(project_dir, *args, **kwargs)
    line = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    seen(f"exit {proc.returncode}: {line[:60]}")
    assert proc.returncode == 2, proc.stderr
    assert expect in line, proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.case("truncated JSON")
def test_truncated_json(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    _refused(project_dir, seen, "run", "truncated.ipynb",
             expect="truncated.ipynb: not valid JSON at line")


@pytest.mark.case("schema-invalid notebook")
def test_schema_invalid(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    _refused(project_dir, seen, "run", "schema_invalid.ipynb",
             expect="schema_invalid.ipynb: does not match the nbformat schema")


@pytest.mark.case("nbformat v3")
def test_nbformat_v3(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    (project_dir / "v3.ipynb").write_text(json.dumps({
        "nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""},
        "worksheets": [{"metadata": {}, "cells": [{
            "cell_type": "code", "input": "import nbprod\nnbprod.record('v', 3)",
            "language": "python", "outputs": [], "metadata": {}}]}]}))
    code, record = run_json(project_dir, "run", "v3.ipynb")
    seen(f"{record['state']} (converted to v4 in memory), exit {code}")
    assert code == 0 and record["values"] == {"v": 3}


@pytest.mark.case("nbformat v4.0-v4.5")
@pytest.mark.parametrize("minor", [0, 1, 2, 3, 4, 5])
def test_nbformat_v4_minors(project_dir: Path, minor: int, seen) -> None:  # type: ignore[no-untyped-def]
    _variant(project_dir / f"v4{minor}.ipynb", minor=minor, ids=minor == 5)
    code, record = run_json(project_dir, "run", f"v4{minor}.ipynb")
    seen(f"4.{minor}: {record['state']}, exit {code}")
    assert code == 0 and record["values"]["x2"] == 2


@pytest.mark.case("nbformat v4.0-v4.4 with cell ids")
def test_old_minor_with_cell_ids(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    _variant(project_dir / "v44ids.ipynb", minor=4, ids=True)
    code, record = run_json(project_dir, "run", "v44ids.ipynb")
    seen(f"{record['state']}, exit {code}, read as 4.5 with a note")
    assert code == 0 and record["state"] == "succeeded"
    assert "marked nbformat 4.4 but its cells carry ids" in (record["note"] or "")


@pytest.mark.case("duplicate cell ids")
def test_duplicate_cell_ids(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    nb = copy.deepcopy(OK)
    for cell in nb["cells"]:
        cell["id"] = "same"
    (project_dir / "dup.ipynb").write_text(json.dumps(nb))
    code, record = run_json(project_dir, "run", "dup.ipynb")
    seen(f"{record['state']} (ids repaired in memory), exit {code}")
    assert code == 0
    stored = next(a["path"] for a in record["artifacts"] if a["name"] == "notebook.ipynb")
    ids = [c["id"] for c in json.loads(Path(stored).read_text())["cells"]]
    assert len(set(ids)) == len(ids)


@pytest.mark.case("no kernelspec")
def test_no_kernelspec(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    nb = copy.deepcopy(OK)
    nb["metadata"].pop("kernelspec", None)
    (project_dir / "nokernel.ipynb").write_text(json.dumps(nb))
    code, record = run_json(project_dir, "run", "nokernel.ipynb")
    seen(f"{record['state']} on {record['lineage']['kernel']}, exit {code}")
    assert code == 0 and record["lineage"]["kernel"] == "python3"


@pytest.mark.case("no parameters cell")
def test_no_parameters_cell(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    _refused(project_dir, seen, "run", "no_parameters.ipynb", "-p", "x", "1",
             expect="parameter 'x' (from -p): the notebook has no cell tagged 'parameters'")


@pytest.mark.case("unknown parameter")
def test_unknown_parameter(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    _refused(project_dir, seen, "run", "ok.ipynb", "-p", "lable", "b",
             expect="unknown parameter 'lable' (from -p); did you mean 'label'?")


@pytest.mark.case("mistyped parameter")
def test_mistyped_parameter(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    _refused(project_dir, seen, "run", "ok.ipynb", "-p", "x", "seven",
             expect="parameter 'x' expects int, got 'seven' (from -p)")


@pytest.mark.case("injection through a parameter name")
def test_injection_through_a_name(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    _refused(project_dir, seen, "run", "ok.ipynb", "--no-strict", "-p",
             "x=1;import os;os.system('touch pwned');y", "1",
             expect="is not a valid Python identifier")
    assert not (project_dir / "pwned").exists()


@pytest.mark.case("injection through a parameter value")
def test_injection_through_a_value(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    value = "a'\nimport os; os.system('touch pwned') #"
    code, record = run_json(project_dir, "run", "ok.ipynb", "-p", "label", value)
    seen(f"{record['state']}: the value stayed a string, exit {code}")
    assert code == 0 and record["values"]["label"] == value
    assert not (project_dir / "pwned").exists()


@pytest.mark.case("injection through YAML tags")
def test_injection_through_yaml_tags(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    (project_dir / "evil.yaml").write_text("label: !!python/object/apply:os.system "
                                           "['touch pwned']\n")
    _refused(project_dir, seen, "run", "ok.ipynb", "-f", "evil.yaml",
             expect="evil.yaml line 1: not valid YAML")
    assert not (project_dir / "pwned").exists()


@pytest.mark.case("invalid UTF-8")
def test_invalid_utf8(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    (project_dir / "latin1.ipynb").write_bytes(
        json.dumps(OK).encode().replace(b"test notebook", b"caf\xe9 notebook"))
    _refused(project_dir, seen, "run", "latin1.ipynb",
             expect="latin1.ipynb: not UTF-8 text (invalid continuation byte at byte")


@pytest.mark.case("lone surrogates")
def test_lone_surrogates(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    nb = copy.deepcopy(OK)
    nb["cells"][2]["source"] = "print('\ud800')"
    (project_dir / "surrogate.ipynb").write_text(json.dumps(nb))
    _refused(project_dir, seen, "run", "surrogate.ipynb",
             expect="cell 2 holds an invalid character ('\\ud800', a lone surrogate)")


@pytest.mark.case("deeply nested JSON")
def test_deeply_nested_json(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    text = json.dumps(OK)
    deep = '{"a": ' * 100_000 + "1" + "}" * 100_000
    (project_dir / "deep.ipynb").write_text(text[:-1] + ', "deep": ' + deep + "}")
    _refused(project_dir, seen, "run", "deep.ipynb", expect="nested too deeply")
    (project_dir / "deep.yaml").write_text("label: " + "[" * 100_000 + "]" * 100_000 + "\n")
    proc = run_cli(project_dir, "run", "ok.ipynb", "-f", "deep.yaml")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]


@pytest.mark.case("odd file names")
@pytest.mark.parametrize("name", ["with space.ipynb", "ünïcødé-名前.ipynb", "-leading-dash.ipynb",
                                  "l" * 200 + ".ipynb"])
def test_odd_file_names(project_dir: Path, name: str, seen) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(project_dir / "ok.ipynb", project_dir / name)
    code, record = run_json(project_dir, "run", f"./{name}")  # ./: a leading dash is no option
    seen(f"{record['state']}, exit {code}")
    assert code == 0 and record["notebook"] == name


@pytest.mark.case("path traversal through output_path, step_path and artifact names")
@pytest.mark.parametrize("call", ["nbprod.output_path('../x')", "nbprod.output_path('/etc/x')",
                                  "nbprod.step_path('..', 'x')",
                                  "nbprod.step_path('prepare', '../../x')",
                                  "nbprod.output_path('a/../../x')"])
def test_path_traversal_in_a_notebook(project_dir: Path, call: str, seen) -> None:  # type: ignore[no-untyped-def]
    write_notebook(project_dir / "escape.ipynb", None, f"import nbprod\nopen({call}, 'w')")
    code, record = run_json(project_dir, "run", "escape.ipynb")
    failure = record["failure"]
    seen(f"{failure['kind']}: {failure['ename']}, exit {code}")
    assert code == 3 and failure["kind"] == "cell_error"
    assert failure["ename"] in ("RecordError", "ValueError", "FileNotFoundError")
    assert not (project_dir.parent / "x").exists() and not Path("/etc/x").exists()


@pytest.mark.case("path traversal through job names")
def test_path_traversal_in_a_job_name(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    proc = run_cli(project_dir, "job", "build", "../../etc")
    seen(f"exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1][:60]}")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
