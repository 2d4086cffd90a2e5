"""``nbprod lint`` as a user runs it: formats, settings, --fix, --explain and exit codes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nbprod.cli.main import run_cli
from nbprod.lint.catalog import ENGINE_CODES, RuleSet

DATA = Path(__file__).parents[1] / "data" / "lint"
REPO = Path(__file__).parents[2]
FIELDS = {"path", "cell", "line", "code", "severity", "message"}


def make_project(root: Path, *names: str, settings: str = "") -> Path:
    """A project folder: nbprod.toml (lint settings under [lint]) and copies of notebooks."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbprod.toml").write_text(f'notebook_dir = "."\n{settings}')
    for name in names:
        shutil.copy(DATA / name, root / Path(name).name)
    return root


def nbprod(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBPROD_")}
    return subprocess.run([sys.executable, "-m", "nbprod", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def lint_json(cwd: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    proc = nbprod(cwd, "lint", "--format", "json", "--no-record", "--no-cache", *args)
    try:
        return proc.returncode, json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"not JSON (exit {proc.returncode}):\n{proc.stdout}\n"
                             f"{proc.stderr}") from None


def test_json_format_fields(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "NBP105.ipynb", "NBP301.ipynb", "clean.ipynb")
    code, findings = lint_json(root, ".")
    assert code == 1
    assert findings
    for item in findings:
        assert set(item) >= FIELDS, item
    by_code = {item["code"]: item for item in findings}
    assert set(by_code) == {"NBP105", "NBP301"}
    assert {k: by_code["NBP105"][k] for k in ("path", "cell", "line", "severity")} == {
        "path": "NBP105.ipynb", "cell": 0, "line": 2, "severity": "warning"}
    assert {k: by_code["NBP301"][k] for k in ("path", "cell", "line")} == {
        "path": "NBP301.ipynb", "cell": 2, "line": 3}
    assert "beta" in str(by_code["NBP105"]["message"])


def test_exit_codes(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "clean.ipynb", "NBP105.ipynb")
    assert nbprod(root, "lint", "--no-record", "clean.ipynb").returncode == 0
    assert nbprod(root, "lint", "--no-record", "NBP105.ipynb").returncode == 1
    unknown = nbprod(root, "lint", "--explain", "NBP999")
    assert unknown.returncode == 2
    assert "NBP999" in unknown.stderr
    (root / "nbprod.toml").write_text('notebook_dir = "."\n[lint]\nselectt = ["NBP"]\n')
    bad = nbprod(root, "lint", "--no-record", "clean.ipynb")
    assert bad.returncode == 2
    assert "selectt" in bad.stderr
    (root / "nbprod.toml").write_text('notebook_dir = "."\n[lint]\nseverity = {NBP105 = "fatal"}\n')
    assert nbprod(root, "lint", "--no-record", "clean.ipynb").returncode == 2


def test_settings_select_ignore_per_file_ignores_severity(tmp_path: Path) -> None:
    names = ("NBP105.ipynb", "NBP301.ipynb", "NBP307.ipynb", "NBP401.ipynb")
    root = make_project(tmp_path / "select", *names, settings='[lint]\nselect = ["NBP3"]\n')
    assert {f["code"] for f in lint_json(root, ".")[1]} == {"NBP301", "NBP307"}

    root = make_project(tmp_path / "ignore", *names,
                        settings='[lint]\nignore = ["NBP30", "NBP4"]\n')
    assert {f["code"] for f in lint_json(root, ".")[1]} == {"NBP105"}

    root = make_project(tmp_path / "per-file", *names, settings=(
        '[lint]\nper_file_ignores = { "NBP1*.ipynb" = ["NBP105"], "NBP3*.ipynb" = ["NBP3"] }\n'))
    assert {f["code"] for f in lint_json(root, ".")[1]} == {"NBP401"}

    root = make_project(tmp_path / "severity", *names, settings=(
        '[lint]\nseverity = { NBP105 = "error", NBP401 = "info" }\nfail_on = "error"\n'
        'ignore = ["NBP3"]\n'))
    code, findings = lint_json(root, ".")
    assert {(f["code"], f["severity"]) for f in findings} == {("NBP105", "error"),
                                                              ("NBP401", "info")}
    assert code == 1  # NBP105 is now an error
    (root / "NBP105.ipynb").unlink()
    assert lint_json(root, ".")[0] == 0  # an info finding does not fail with fail_on=error


def test_fix_clears_outputs_atomically(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "NBP202.ipynb", "clean.ipynb")
    path = root / "NBP202.ipynb"
    before = path.stat().st_ino
    proc = nbprod(root, "lint", "--fix", "--no-record", "NBP202.ipynb")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # nothing left after the fix
    assert "fixed" in proc.stderr
    data = json.loads(path.read_text())
    code_cells = [c for c in data["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code_cells)
    assert [c["source"] for c in data["cells"]] == [
        c["source"] for c in json.loads((DATA / "NBP202.ipynb").read_text())["cells"]]
    assert path.stat().st_ino != before  # written beside and renamed into place
    assert not [p for p in root.iterdir() if p.name.endswith(".tmp")]
    import nbformat

    nbformat.validate(nbformat.reads(path.read_text(), as_version=4))


def test_fix_diff_prints_and_writes_nothing(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "NBP202.ipynb")
    original = (root / "NBP202.ipynb").read_bytes()
    proc = nbprod(root, "lint", "--fix", "--diff", "--no-record", "NBP202.ipynb")
    assert (root / "NBP202.ipynb").read_bytes() == original
    assert "(before)" in proc.stdout and "(fixed)" in proc.stdout
    assert re.search(r'^-\s+"ename": "ValueError"', proc.stdout, re.MULTILINE)
    assert proc.returncode == 1  # the findings are still there


@pytest.mark.parametrize("code", sorted({r.code for r in RuleSet.from_entry_points()}
                                        | set(ENGINE_CODES)))
def test_explain_every_code(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["lint", "--explain", code.lower()]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{code} ")
    rule = RuleSet.from_entry_points().get(code)
    if rule is not None:
        doc = type(rule).__doc__
        assert doc and doc.strip().splitlines()[0] in out
        assert rule.summary in out
        assert len(out.splitlines()) >= 5, "explain text should say why and how to fix"


def test_github_format(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "NBP105.ipynb", "NBP302.ipynb", "NBP001.ipynb")
    proc = nbprod(root, "lint", "--format", "github", "--no-record", ".")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) == 3
    for line in lines:
        assert re.fullmatch(r"::(error|warning|notice) file=[^,:]+,title=[^,:]+::\S.*", line), line
    assert any(line.startswith("::error file=NBP302.ipynb,title=NBP302 (cell 1%3Aline 4)::")
               for line in lines)


def test_sarif_format(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "NBP105.ipynb", "NBP302.ipynb", "NBP001.ipynb",
                        "NBP401.ipynb")
    proc = nbprod(root, "lint", "--format", "sarif", "--no-record", ".")
    assert proc.returncode == 1
    log = json.loads(proc.stdout)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    results = run["results"]
    assert {r["ruleId"] for r in results} == {"NBP001", "NBP105", "NBP302", "NBP401"}
    for result in results:
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        assert rules[result["ruleIndex"]] == result["ruleId"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels["NBP302"] == "error" and levels["NBP105"] == "warning"


def test_malformed_notebook_does_not_stop_the_others(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "NBP001.ipynb", "NBP105.ipynb", "clean.ipynb")
    code, findings = lint_json(root, ".")
    assert code == 1
    assert [(f["path"], f["code"]) for f in findings] == [("NBP001.ipynb", "NBP001"),
                                                          ("NBP105.ipynb", "NBP105")]


def test_example_pipeline_is_clean() -> None:
    proc = nbprod(REPO, "lint", "--no-record", "--no-cache", "notebooks")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_text_report_colours_each_code_by_its_severity() -> None:
    import click

    from nbprod.lint.config import LintConfig
    from nbprod.lint.engine import LintReport
    from nbprod.lint.model import FileResult, Finding
    from nbprod.lint.report import as_text

    findings = (Finding("a.ipynb", None, None, "NBP001", "error", "broken"),
                Finding("a.ipynb", 2, None, "NBP201", "warning", "hidden state"),
                Finding("a.ipynb", 3, 4, "NBP201", "info", "softened"))
    report = LintReport(files=(FileResult("a.ipynb", "s", None, findings),),
                        config=LintConfig())
    text = as_text(report, RuleSet(()), color=True).splitlines()
    assert text[:3] == [
        f"a.ipynb: {click.style('NBP001', fg='red', bold=True)} broken",
        f"a.ipynb:cell 2: {click.style('NBP201', fg='yellow', bold=True)} hidden state",
        f"a.ipynb:cell 3:line 4: {click.style('NBP201', fg='blue', bold=True)} softened"]
    assert as_text(report, RuleSet(())).splitlines()[2] == "a.ipynb:cell 3:line 4: NBP201 softened"
