"""Each final state of a run, with real kernels, and the registry left consistent.

DESIGN.md invariant 1: every run ends in exactly one final state; a failure has a kind, the
cell (index in the input notebook), the exception; the partial output notebook is kept with
the failing cell marked.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from nbprod import api
from nbprod.api import GivenValue, Project, RunRequest
from nbprod.records import RunRecord

from .consistency import assert_consistent

pytestmark = pytest.mark.slow


def run(project: Project, notebook: str, **kwargs: object) -> RunRecord:
    params = {k: GivenValue(str(v), source="-p", raw=True)
              for k, v in dict(kwargs.pop("params", {}) or {}).items()}  # type: ignore[call-overload]
    return api.run_notebook(project, RunRequest(notebook, parameters=params, **kwargs))  # type: ignore[arg-type]


def output_notebook(record: RunRecord) -> dict:  # type: ignore[type-arg]
    artifact = record.artifact("notebook.ipynb")
    assert artifact is not None
    return json.loads(Path(artifact.location).read_text())


def failed_cells(notebook: dict) -> list[str]:  # type: ignore[type-arg]
    return ["".join(c["source"]) for c in notebook["cells"]
            if "nbprod-failed" in c["metadata"].get("tags", [])]


def test_success_records_parameters_values_files_and_hashes(project: Project) -> None:
    record = run(project, "ok.ipynb", params={"x": 21, "label": "b"})
    assert record.state == "succeeded" and record.failure is None
    assert record.parameters == {"x": 21, "label": "b"}
    assert record.values == {"x2": 42, "label": "b"}
    assert {a.name for a in record.artifacts} == {
        "notebook.ipynb", "report.html", "record.json", "files/out.txt"}
    assert Path(record.artifact("files/out.txt").location).read_text() == "b:21"  # type: ignore[union-attr]
    stored = json.loads(Path(record.artifact("record.json").location).read_text())  # type: ignore[union-attr]
    assert stored["run_id"] == record.run_id and stored["state"] == "succeeded"
    injected = [c for c in output_notebook(record)["cells"]
                if "injected-parameters" in c["metadata"].get("tags", [])]
    assert "x = 21" in "".join(injected[0]["source"])
    assert_consistent(project)


def test_cell_error_names_cell_and_exception_and_keeps_marked_notebook(project: Project) -> None:
    record = run(project, "raises.ipynb", params={"x": 7})
    assert record.state == "failed"
    failure = record.failure
    assert failure is not None and failure.kind == "cell_error"
    assert failure.cell_index == 3  # markdown 0, parameters 1, "y = x + 1" 2, raise 3
    assert (failure.ename, failure.evalue) == ("ValueError", "bad input 7")
    notebook = output_notebook(record)
    assert failed_cells(notebook) == ["raise ValueError(f'bad input {x}')"]
    assert "nbprod: this run failed" in "".join(notebook["cells"][0]["source"])
    assert_consistent(project)


def test_killed_kernel_is_kernel_died_with_signal(project: Project) -> None:
    record = run(project, "dies.ipynb")
    assert record.state == "failed"
    assert record.failure is not None
    assert record.failure.kind == "kernel_died"
    assert record.failure.signal == "SIGKILL"
    assert record.failure.cell_index == 2
    assert failed_cells(output_notebook(record))
    assert_consistent(project)


def test_cell_timeout_interrupts_and_kills(project: Project) -> None:
    started = time.monotonic()
    record = run(project, "hangs.ipynb", cell_timeout=2)
    assert time.monotonic() - started < 60
    assert record.failure is not None
    assert (record.failure.kind, record.failure.cell_index) == ("timeout", 2)
    assert "--cell-timeout" in record.failure.message
    assert_consistent(project)


def test_whole_run_timeout(project: Project) -> None:
    record = run(project, "hangs.ipynb", timeout=3)
    assert record.failure is not None
    assert record.failure.kind == "timeout"
    assert "--timeout" in record.failure.message
    assert_consistent(project)


def test_no_kernel_process_outlives_a_timed_out_run(project: Project, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    pid_file = tmp_path / "child.pid"
    project.kernel_env = {**project.kernel_env, "CHILD_PID_FILE": str(pid_file)}
    record = run(project, "spawns.ipynb", cell_timeout=2)
    assert record.failure is not None and record.failure.kind == "timeout"
    child = int(pid_file.read_text())
    assert not _alive(child), "the kernel's child process survived the run"


def _alive(pid: int) -> bool:
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] \
            if Path(f"/proc/{pid}/stat").exists() else "X"
        if state in ("Z", "X"):
            return False
        time.sleep(0.1)
    return True


@pytest.fixture
def kernelspecs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Kernelspecs that cannot start: one exits at once, one never answers."""
    root = tmp_path / "jupyter"
    for name, code in (("broken", "import sys; sys.exit(3)"),
                       ("silent", "import time; time.sleep(120)")):
        spec = root / "kernels" / name
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": ["python3", "-c", code, "{connection_file}"], "display_name": name,
            "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(root))
    return root


def test_kernel_that_exits_at_start_is_infra(project: Project, kernelspecs: Path) -> None:
    record = run(project, "ok.ipynb", kernel="broken")
    assert record.failure is not None
    assert record.failure.kind == "infra"
    assert "did not start" in record.failure.message
    assert record.failure.exit_code == 3
    assert_consistent(project)


def test_kernel_that_never_answers_is_infra_after_start_timeout(project: Project,
                                                               kernelspecs: Path) -> None:
    record = run(project, "ok.ipynb", kernel="silent", start_timeout=2)
    assert record.failure is not None
    assert record.failure.kind == "infra"
    assert "didn't respond in 2 seconds" in record.failure.message
    assert_consistent(project)


def test_unknown_kernel_is_invalid_input(project: Project) -> None:
    record = run(project, "ok.ipynb", kernel="no-such-kernel")
    assert record.failure is not None
    assert record.failure.kind == "invalid_input"
    assert "no Jupyter kernel named 'no-such-kernel'" in record.failure.message


def test_sys_exit_0_is_success_and_stops_there(project: Project) -> None:
    record = run(project, "sysexit0.ipynb")
    assert record.state == "succeeded"
    assert record.values == {"before": 1}
    assert record.note is not None and "sys.exit" in record.note


def test_sys_exit_1_is_failure(project: Project) -> None:
    record = run(project, "sysexit1.ipynb")
    assert record.failure is not None
    assert (record.failure.kind, record.failure.ename, record.failure.evalue) == (
        "cell_error", "SystemExit", "1")


@pytest.mark.parametrize(("notebook", "params", "expected"), [
    ("ok.ipynb", {"y": 1}, "unknown parameter 'y'"),
    ("ok.ipynb", {"xx": 1}, "did you mean 'x'?"),
    ("ok.ipynb", {"x": "abc"}, "parameter 'x' expects int, got 'abc'"),
    ("ok.ipynb", {"x=1;import os": 1}, "is not a valid Python identifier"),
    ("no_parameters.ipynb", {"x": 1}, "no cell tagged 'parameters'"),
    ("truncated.ipynb", {}, "not valid JSON"),
    ("schema_invalid.ipynb", {}, "does not match the nbformat schema: cell 1"),
])
def test_invalid_input_is_recorded_failed_and_runs_nothing(
        project: Project, notebook: str, params: dict[str, object], expected: str) -> None:
    record = run(project, notebook, params=params)
    assert record.state == "failed"
    assert record.failure is not None and record.failure.kind == "invalid_input"
    assert expected in record.failure.message
    assert record.artifacts == ()  # nothing executed, nothing stored
    assert_consistent(project)


def test_value_crafted_to_inject_code_round_trips_as_a_string(project: Project,
                                                             tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    crafted = f"a'); open({str(marker)!r}, 'w').write('x'); ('"
    record = run(project, "ok.ipynb", params={"label": crafted})
    assert record.state == "succeeded"
    assert record.values["label"] == crafted
    assert not marker.exists()


def test_no_strict_runs_an_untyped_notebook_as_papermill_would(project: Project) -> None:
    record = run(project, "untyped.ipynb", params={"alpha": "0.5", "beta": "True"},
                 strict=False)
    assert record.state == "succeeded"
    assert record.parameters == {"alpha": 0.5, "beta": True}


def test_scrapbook_glue_values_are_read(project: Project) -> None:
    pytest.importorskip("scrapbook")
    record = run(project, "glue.ipynb")
    assert record.state == "succeeded", record.failure
    assert record.values == {"glued": 42, "text": "hello"}


def test_import_nbprod_and_record_in_a_kernel_are_cheap_and_load_no_heavy_modules(
        project: Project, tmp_path: Path) -> None:
    notebook = json.loads((project.root / "ok.ipynb").read_text())
    notebook["cells"][2]["source"] = (
        "import sys, time\n"
        "before = set(sys.modules)\n"
        "t0 = time.perf_counter()\n"
        "import nbprod\n"
        "nbprod.record('x2', x * 2)\n"
        "elapsed = time.perf_counter() - t0\n"
        "heavy = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in\n"
        "               ('nbformat', 'jsonschema', 'sqlalchemy', 'papermill', 'nbclient',\n"
        "                'nbconvert', 'alembic', 'rich', 'click', 'yaml'))\n"
        "nbprod.record('heavy', heavy)\n"
        "nbprod.record('elapsed', elapsed)")
    notebook["cells"] = notebook["cells"][:3]
    (project.root / "cheap.ipynb").write_text(json.dumps(notebook))
    record = run(project, "cheap.ipynb")
    assert record.state == "succeeded", record.failure
    assert record.values["heavy"] == []
    assert record.values["x2"] == 2
    # Not a timing assertion on a noisy machine: a bound two orders of magnitude above the
    # measured ~2 ms, to catch an accidental import of the library (~1 s).
    assert record.values["elapsed"] < 0.5


def test_notebook_in_a_subfolder_runs_with_its_folder_as_working_directory(
        project: Project) -> None:
    # The kernel runs in the notebook's folder while nbprod runs in the project: everything
    # they share (connection sockets) must not depend on the working directory.
    sub = project.root / "deep" / "er"
    sub.mkdir(parents=True)
    notebook = json.loads((project.root / "ok.ipynb").read_text())
    notebook["cells"].append({"cell_type": "code", "execution_count": None, "id": "cwd1",
                              "metadata": {}, "outputs": [],
                              "source": "import os\nnbprod.record('cwd', os.getcwd())"})
    (sub / "nested.ipynb").write_text(json.dumps(notebook))
    record = run(project, "deep/er/nested.ipynb")
    assert record.state == "succeeded", record.failure
    assert record.values["cwd"] == str(sub)


def test_an_output_that_is_not_nbformat_is_dropped_with_a_note(project: Project,
                                                               project_dir: Path) -> None:
    # A kernel (or a library in it) that sends malformed display data: the run goes on and
    # succeeds, the output is replaced by a note in its cell, and the run's note names it.
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                              "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
                    "get_ipython().display_pub.publish(data={'text/plain': 5})\n"
                    "print('same cell')"),
                nbformat.v4.new_code_cell("print('next cell')")]
    nbformat.write(nb, project_dir / "hostile_output.ipynb")
    record = run(project, "hostile_output.ipynb")
    assert record.state == "succeeded", record.failure
    assert record.note is not None and \
        "outputs dropped as not valid nbformat: cell 0 (1)" in record.note
    cells = output_notebook(record)["cells"]
    texts = ["".join(o.get("text", "")) for o in cells[0]["outputs"]]
    assert texts[0].startswith("[nbprod: an output of this cell was dropped: it is not "
                               "valid nbformat (output.data.text/plain")
    assert texts[1] == "same cell\n"
    assert "".join(cells[1]["outputs"][0]["text"]) == "next cell\n"
    assert_consistent(project)
