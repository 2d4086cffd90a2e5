"""The CLI as a user runs it: exit codes, one-line errors, --json shapes, help."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import run_json

pytestmark = pytest.mark.slow


def test_help_lists_commands_and_exit_codes(cli) -> None:  # type: ignore[no-untyped-def]
    proc = cli("--help")
    assert proc.returncode == 0
    for word in ("run", "runs", "show", "diff", "Exit codes", "3 the notebook failed"):
        assert word in proc.stdout
    run_help = cli("run", "--help").stdout
    for flag in ("-p, --parameter NAME VALUE", "--start-timeout", "--cell-timeout",
                 "--timeout", "--no-strict", "--json", "Exit codes"):
        assert flag in run_help


def test_python_dash_m_is_the_same_command(project_dir: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "nbprod", "--version"], cwd=project_dir,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "nbprod" in proc.stdout


def test_run_json_shape_and_exit_code(project_dir: Path) -> None:
    code, record = run_json(project_dir, "run", "ok.ipynb", "-p", "x", "5")
    assert code == 0
    for key in ("run_id", "state", "failure", "parameters", "values", "notebook_version",
                "artifacts", "lineage"):
        assert key in record
    assert record["state"] == "succeeded" and record["failure"] is None
    assert record["parameters"] == {"x": 5}
    for artifact in record["artifacts"]:
        assert set(artifact) >= {"path", "sha256", "size"}


@pytest.mark.parametrize(("args", "code", "kind"), [
    (["run", "raises.ipynb"], 3, "cell_error"),
    (["run", "ok.ipynb", "-p", "x", "abc"], 2, "invalid_input"),
    (["run", "ok.ipynb", "--kernel", "nope"], 2, "invalid_input"),
])
def test_failures_exit_with_their_code_and_one_line(cli, args: list[str], code: int,  # type: ignore[no-untyped-def]
                                                    kind: str) -> None:
    proc = cli(*args)
    assert proc.returncode == code
    errors = [line for line in proc.stderr.splitlines() if line.startswith("nbprod: error:")]
    assert len(errors) == 1, proc.stderr
    assert f"({kind})" in errors[0]
    assert "Traceback" not in proc.stderr
    json_proc = cli(*args, "--json")
    assert json_proc.returncode == code
    assert json.loads(json_proc.stdout)["failure"]["kind"] == kind


def test_cell_error_json_carries_cell_and_exception(project_dir: Path) -> None:
    code, record = run_json(project_dir, "run", "raises.ipynb", "-p", "x", "3")
    assert code == 3
    assert record["failure"]["cell_index"] == 3
    assert record["failure"]["ename"] == "ValueError"
    assert record["failure"]["evalue"] == "bad input 3"


def test_missing_notebook_is_one_line_exit_2(cli) -> None:  # type: ignore[no-untyped-def]
    proc = cli("run", "nope.ipynb")
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("nbprod: error: no notebook 'nope.ipynb'")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_debug_env_shows_traceback(cli) -> None:  # type: ignore[no-untyped-def]
    proc = cli("show", "nothing-like-this", env={"NBPROD_DEBUG": "1"})
    assert proc.returncode == 2 and "Traceback" in proc.stderr
    quiet = cli("show", "nothing-like-this")
    assert "Traceback" not in quiet.stderr and "no run matches" in quiet.stderr


def test_bad_setting_is_reported_with_suggestion(project_dir: Path, cli) -> None:  # type: ignore[no-untyped-def]
    (project_dir / "nbprod.toml").write_text("cell_timout = 5\n")
    proc = cli("runs")
    assert proc.returncode == 2
    assert "unknown setting 'cell_timout'" in proc.stderr and "cell_timeout" in proc.stderr


def test_bad_timeout_env_is_reported(cli) -> None:  # type: ignore[no-untyped-def]
    proc = cli("runs", env={"NBPROD_TIMEOUT": "soon"})
    assert proc.returncode == 2 and "NBPROD_TIMEOUT" in proc.stderr


def test_parameters_file(project_dir: Path) -> None:
    (project_dir / "params.yaml").write_text("x: 4\nlabel: from-file\n")
    code, record = run_json(project_dir, "run", "ok.ipynb", "-f", "params.yaml",
                            "-p", "x", "6")
    assert code == 0
    assert record["parameters"] == {"x": 6, "label": "from-file"}
    (project_dir / "evil.yaml").write_text("x: !!python/object/apply:os.system ['true']\n")
    code, error = run_json(project_dir, "run", "ok.ipynb", "-f", "evil.yaml")
    assert code == 2
    assert "evil.yaml line 1" in error["error"]["message"]


def test_runs_show_and_diff(project_dir: Path, cli) -> None:  # type: ignore[no-untyped-def]
    _, first = run_json(project_dir, "run", "ok.ipynb", "-p", "x", "1")
    _, second = run_json(project_dir, "run", "ok.ipynb", "-p", "x", "2")
    _, failed = run_json(project_dir, "run", "raises.ipynb")
    code, runs = run_json(project_dir, "runs")
    assert code == 0 and [r["run_id"] for r in runs] == [
        failed["run_id"], second["run_id"], first["run_id"]]
    _, only_failed = run_json(project_dir, "runs", "--state", "failed")
    assert [r["run_id"] for r in only_failed] == [failed["run_id"]]
    _, by_notebook = run_json(project_dir, "runs", "--notebook", "ok", "--last", "1")
    assert [r["run_id"] for r in by_notebook] == [second["run_id"]]

    code, shown = run_json(project_dir, "show", first["run_id"][-6:])
    assert code == 0 and shown["run_id"] == first["run_id"]
    text = cli("show", first["run_id"]).stdout
    for word in ("lineage", "notebook version", "parameters", "values", "report.html"):
        assert word in text

    code, diff = run_json(project_dir, "diff", first["run_id"], second["run_id"])
    assert code == 0
    changed = {(c["section"], c["name"]): (c["left"], c["right"]) for c in diff["changes"]}
    assert changed[("parameters", "x")] == (1, 2)
    assert changed[("values", "x2")] == (2, 4)
    assert ("run", "notebook_version") not in changed
    table = cli("runs").stdout
    assert first["run_id"] in table and "succeeded" in table and "x2=2" in table


def test_show_verify_detects_a_modified_artifact(project_dir: Path, cli) -> None:  # type: ignore[no-untyped-def]
    _, record = run_json(project_dir, "run", "ok.ipynb")
    assert cli("show", record["run_id"], "--verify").returncode == 0
    out = next(a for a in record["artifacts"] if a["name"] == "files/out.txt")
    stored = Path(out["path"])
    assert stored.stat().st_mode & 0o777 == 0o444  # committed files are read-only on disk
    stored.chmod(0o644)  # as someone set on changing it would
    stored.write_text("tampered")
    proc = cli("show", record["run_id"], "--verify")
    assert proc.returncode == 4, proc.stderr  # an integrity error, not "not found"
    assert "artifact files/out.txt does not match its record" in proc.stderr
    assert out["sha256"] in proc.stderr
    assert hashlib.sha256(b"tampered").hexdigest() in proc.stderr
    code, shown = run_json(project_dir, "show", record["run_id"], "--verify")
    assert code == 4 and shown["error"]["type"] == "ArtifactsCorrupt"
    assert shown["artifact_problems"] == [{"name": "files/out.txt",
                                           "recorded_sha256": out["sha256"],
                                           "found_sha256": hashlib.sha256(b"tampered").hexdigest()}]
    stored.unlink()
    proc = cli("show", record["run_id"], "--verify")
    assert proc.returncode == 4 and "it is missing" in proc.stderr
