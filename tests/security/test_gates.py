"""Gates that cannot be talked around (issue 9 §2).

- ``lint``/``tests`` count only results produced under the project's current settings:
  ``nbprod lint --ignore NBP`` no longer turns a failing lint gate green;
- ``not_worse`` fails closed when the production version has no value to compare with.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nbprod.promote.gates import NotWorseGate
from nbprod.records import JobRun, JobVersion, utcnow

from ..conftest import run_json
from .conftest import jobs_project


def _flow_project(tmp_path: Path) -> Path:
    return jobs_project(tmp_path / "gated")


@pytest.mark.slow
def test_lint_results_under_other_settings_do_not_pass_the_gate(tmp_path: Path) -> None:
    root = _flow_project(tmp_path)
    make = root / "notebooks" / "make.ipynb"
    data = json.loads(make.read_text())
    data["cells"].append({"cell_type": "code", "id": "unseeded", "metadata": {},
                          "execution_count": None, "outputs": [],
                          "source": "import random\nnoise = random.random()"})  # NBP401
    make.write_text(json.dumps(data))
    assert run_json(root, "job", "build", "flow")[0] == 0
    code, _ = run_json(root, "lint", "notebooks")
    assert code == 1  # the project's settings fail it
    code, _ = run_json(root, "lint", "notebooks", "--ignore", "NBP")
    assert code == 0  # clean only with the rule switched off on the command line
    _, verdict = run_json(root, "promote", "flow", "1", "--to", "staging", "--dry-run")
    lint = next(g for g in verdict["gates"] if g["gate"] == "lint")
    assert not lint["passed"]
    assert "failed for make" in lint["detail"]  # the result under the project's settings


@pytest.mark.slow
def test_a_gate_without_any_result_under_current_settings_says_so(tmp_path: Path) -> None:
    root = _flow_project(tmp_path)
    assert run_json(root, "job", "build", "flow")[0] == 0
    assert run_json(root, "lint", "notebooks", "--ignore", "NBP")[0] == 0
    _, verdict = run_json(root, "promote", "flow", "1", "--to", "staging", "--dry-run")
    lint = next(g for g in verdict["gates"] if g["gate"] == "lint")
    assert not lint["passed"]
    assert "no result under the project's current settings" in lint["detail"]
    assert run_json(root, "lint", "notebooks")[0] == 0  # now under the project's settings
    _, verdict = run_json(root, "promote", "flow", "1", "--to", "staging", "--dry-run")
    assert next(g for g in verdict["gates"] if g["gate"] == "lint")["passed"]


class _History:
    """A GateContext: version 2 under promotion, ``production`` at version 1."""

    def __init__(self, values: dict[int, dict[str, Any]], production: int | None) -> None:
        self._values = values
        self._production = production
        self.version = JobVersion(job="flow", version=2, digest="d", manifest={"steps": []},
                                  built_by="ann", built_at=utcnow())
        self.stage = "production"
        self.previous_stage = "staging"

    def checks(self, notebook_version: str, kind: str) -> list[Any]:
        return []

    def job_runs(self, version: int, state: str | None = None) -> list[JobRun]:
        if version not in self._values:
            return []
        return [JobRun(job_run_id=f"jr{version}", job="flow", version=version, stage=None,
                       state="succeeded", started_at=utcnow())]

    def values(self, job_run: JobRun) -> dict[str, dict[str, Any]]:
        return {"make": self._values[job_run.version]}

    def stage_version(self, stage: str) -> int | None:
        return self._production

    def was_in_stage(self, version: int, stage: str) -> bool:
        return False


_OPTIONS = {"metric": "make.score", "margin": 0.01}


def test_not_worse_fails_when_production_has_no_value() -> None:
    result = NotWorseGate().evaluate(_History({2: {"score": 0.95}, 1: {}}, 1), _OPTIONS)
    assert not result.passed
    assert "version 1 in production has no make.score" in result.detail


def test_not_worse_fails_when_production_never_ran() -> None:
    result = NotWorseGate().evaluate(_History({2: {"score": 0.95}}, 1), _OPTIONS)
    assert not result.passed and "no succeeded job run of version 1" in result.detail


def test_not_worse_passes_when_nothing_is_in_production_yet() -> None:
    result = NotWorseGate().evaluate(_History({2: {"score": 0.95}}, None), _OPTIONS)
    assert result.passed and "no other version in production" in result.detail


def test_not_worse_compares_when_both_have_values() -> None:
    history = _History({2: {"score": 0.95}, 1: {"score": 0.97}}, 1)
    assert not NotWorseGate().evaluate(history, _OPTIONS).passed
    assert NotWorseGate().evaluate(history, {**_OPTIONS, "margin": 0.05}).passed
