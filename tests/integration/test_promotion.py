"""Jobs and promotion: versions, job runs, gates, roles, approvals, rollback, audit, conflicts.

A small real job (tests/data/jobs: `make` writes a file and records `score`, `use` reads the
file through nbprod.step_path) with staging and production gates and roles.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from nbprod import api
from nbprod.api.jobs import JobRunRequest, build_job, run_job
from nbprod.api.promotion import approve, evaluate, promote, rollback
from nbprod.config import Settings, load_settings
from nbprod.errors import Conflict, GateFailed, NotAllowed, NotFound
from nbprod.jobs.spec import JobSpec, job_spec
from nbprod.promote.gates import GateResult, GateSet

from ..conftest import DATA, run_cli, run_json

pytestmark = pytest.mark.slow
JOBS = DATA.parent / "jobs"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = tmp_path / "flowproj"
    (project / "notebooks").mkdir(parents=True)
    shutil.copy(JOBS / "nbprod.toml", project / "nbprod.toml")
    for name in ("make", "use"):
        shutil.copy(JOBS / f"{name}.ipynb", project / "notebooks" / f"{name}.ipynb")
    return project


@pytest.fixture
def settings(root: Path) -> Settings:
    return load_settings(root, env={})


@pytest.fixture
def spec(settings: Settings) -> JobSpec:
    return job_spec(settings, "flow")


@pytest.fixture
def as_user(settings: Settings) -> Iterator[Callable[[str], api.Project]]:
    """``as_user("ann")`` opens the project acting as ann."""
    opened: list[api.Project] = []

    def open_as(user: str) -> api.Project:
        project = api.open_project(settings, {"NBPROD_USER": user})
        opened.append(project)
        return project

    yield open_as
    for project in opened:
        project.close()


def _checks_pass(root: Path, user: str = "bob") -> None:
    """Lint and test the notebooks as they are now (recording results per version)."""
    env = {"NBPROD_USER": user}
    assert run_cli(root, "lint", "notebooks", env=env).returncode == 0
    proc = run_cli(root, "test", "notebooks", env=env)
    assert proc.returncode == 0, proc.stderr


def _gates(outcome: Any) -> dict[str, bool]:
    results = outcome.results if isinstance(outcome, GateFailed) else outcome.verdict.results
    return {r.gate.split()[0]: r.passed for r in results}


def test_job_run_passes_files_between_steps_and_records_the_job_run(
        as_user: Callable[[str], api.Project], spec: JobSpec) -> None:
    project = as_user("bob")
    job_run = run_job(project, spec, JobRunRequest())
    assert job_run.state == "succeeded"
    assert [s.step for s in job_run.steps] == ["make", "use"]
    make, use = (api.get_run(project, str(s.run_id)) for s in job_run.steps)
    assert make.parameters == {"rows": 4} and use.values == {"length": 8}
    assert use.lineage.upstream == {"make": make.run_id}
    assert (make.job_run_id, make.step, use.step) == (job_run.job_run_id, "make", "use")
    test_run = run_job(project, spec, JobRunRequest(test=True))
    assert api.get_run(project, str(test_run.steps[1].run_id)).values == {"length": 4}


def test_failed_step_stops_the_job_and_from_resumes_reusing_earlier_steps(
        as_user: Callable[[str], api.Project], spec: JobSpec, root: Path) -> None:
    project = as_user("bob")
    use = root / "notebooks" / "use.ipynb"
    original = use.read_text()
    broken = json.loads(original)
    broken["cells"][2]["source"] = "raise RuntimeError('use is broken')"
    use.write_text(json.dumps(broken))
    failed = run_job(project, spec, JobRunRequest())
    assert failed.state == "failed"
    assert failed.failure is not None and failed.failure.kind == "cell_error"
    assert "step use failed" in failed.failure.message
    use.write_text(original)
    resumed = run_job(project, spec, JobRunRequest(from_step="use"))
    assert resumed.state == "succeeded" and resumed.resumed_from == failed.job_run_id
    assert resumed.steps[0].reused and resumed.steps[0].run_id == failed.steps[0].run_id
    assert not resumed.steps[1].reused


def test_job_run_cache_reuses_unchanged_steps_and_reruns_what_follows_a_change(
        as_user: Callable[[str], api.Project], spec: JobSpec) -> None:
    project = as_user("bob")
    first = run_job(project, spec, JobRunRequest(cache=True))
    assert first.state == "succeeded" and not any(s.reused for s in first.steps)
    again = run_job(project, spec, JobRunRequest(cache=True))
    assert [s.reused for s in again.steps] == [True, True]
    assert [s.run_id for s in again.steps] == [s.run_id for s in first.steps]
    # a parameter of the last step: the first is reused, the last executes
    changed = run_job(project, spec, JobRunRequest(
        cache=True, parameters={"use": {"factor": api.GivenValue(3, source="-p")}}))
    assert [s.reused for s in changed.steps] == [True, False]
    # a parameter of the first step: its new run makes the next step's key new as well
    upstream = run_job(project, spec, JobRunRequest(
        cache=True, parameters={"make": {"rows": api.GivenValue(5, source="-p")}}))
    assert [s.reused for s in upstream.steps] == [False, False]
    assert api.get_run(project, str(upstream.steps[1].run_id)).values == {"length": 10}
    assert not any(s.reused for s in run_job(project, spec, JobRunRequest()).steps)


def test_build_is_immutable_and_idempotent(as_user: Callable[[str], api.Project],
                                           spec: JobSpec, root: Path) -> None:
    project = as_user("bob")
    first = build_job(project, spec)
    again = build_job(project, spec)
    assert (first.version.version, first.created) == (1, True)
    assert (again.version.version, again.created) == (1, False)
    notebook = root / "notebooks" / "use.ipynb"
    data = json.loads(notebook.read_text())
    data["cells"].append({"cell_type": "markdown", "id": "x1", "metadata": {},
                          "source": "a change"})
    notebook.write_text(json.dumps(data))
    second = build_job(project, spec)
    assert (second.version.version, second.created) == (2, True)
    steps = {s["name"]: s for s in second.version.manifest["steps"]}
    assert steps["make"]["sha256"] == first.version.manifest["steps"][0]["sha256"]
    assert second.version.manifest["environment"]["sha256"]


def test_version_runs_from_its_bundle_not_the_working_tree(
        as_user: Callable[[str], api.Project], spec: JobSpec, root: Path) -> None:
    project = as_user("bob")
    built = build_job(project, spec).version
    notebook = root / "notebooks" / "make.ipynb"
    data = json.loads(notebook.read_text())
    data["cells"][2]["source"] = "raise RuntimeError('the working tree changed')"
    notebook.write_text(json.dumps(data))
    job_run = run_job(project, spec, JobRunRequest(version=built.version))
    assert job_run.state == "succeeded"
    make = api.get_run(project, str(job_run.steps[0].run_id))
    assert make.notebook == "notebooks/make.ipynb"
    assert make.notebook_version == built.manifest["steps"][0]["notebook_version"]
    tree = run_job(project, spec, JobRunRequest())
    assert tree.state == "failed"


def test_promotion_to_production_is_refused_until_every_gate_passes(
        as_user: Callable[[str], api.Project], spec: JobSpec, root: Path) -> None:
    bob, pat, ann, dan = as_user("bob"), as_user("pat"), as_user("ann"), as_user("dan")
    version = build_job(ann, spec).version.version  # ann, an approver, builds it

    # Nothing checked yet: every gate of staging fails, and each is reported.
    with pytest.raises(GateFailed) as refused:
        promote(bob, spec, version, "staging")
    assert _gates(refused.value) == {"lint": False, "tests": False, "succeeded_run": False}
    assert refused.value.exit_code == 5

    _checks_pass(root)
    assert run_job(bob, spec, JobRunRequest(version=version)).state == "succeeded"
    assert promote(bob, spec, version, "staging").moved

    # Production: a user without the role is refused before gates are even counted.
    with pytest.raises(NotAllowed) as not_allowed:
        promote(bob, spec, version, "production")
    assert not_allowed.value.exit_code == 6

    # pat may promote, but the approval is missing.
    with pytest.raises(GateFailed) as no_approval:
        promote(pat, spec, version, "production")
    assert _gates(no_approval.value)["approvals"] is False
    assert all(passed for gate, passed in _gates(no_approval.value).items()
               if gate != "approvals")

    # The builder cannot approve their own version; a non-approver cannot approve; another
    # approver can.
    with pytest.raises(NotAllowed, match="cannot approve"):
        approve(ann, spec, version)
    with pytest.raises(NotAllowed, match="not an approver"):
        approve(pat, spec, version)
    approve(dan, spec, version, comment="looks good")
    outcome = promote(pat, spec, version, "production")
    assert outcome.moved and outcome.verdict.passed
    assert pat.registry.jobs.stage("flow", "production").version == version  # type: ignore[union-attr]


def test_metric_below_threshold_and_untested_version_are_refused(
        as_user: Callable[[str], api.Project], spec: JobSpec, root: Path) -> None:
    bob, pat, ann = as_user("bob"), as_user("pat"), as_user("ann")
    make = root / "notebooks" / "make.ipynb"
    data = json.loads(make.read_text())
    data["cells"][1]["source"] = ("score: float = 0.5  # the metric this step records\n"
                                  "rows: int = 3  # lines written")
    make.write_text(json.dumps(data))
    version = build_job(bob, spec).version.version
    _checks_pass(root)
    assert run_job(bob, spec, JobRunRequest(version=version)).state == "succeeded"
    promote(bob, spec, version, "staging")
    approve(ann, spec, version)
    with pytest.raises(GateFailed) as low:
        promote(pat, spec, version, "production")
    results = {r.gate: r for r in low.value.results}
    metric = results["metric make.score >= 0.9"]
    assert not metric.passed and "0.5" in metric.detail
    assert [r.gate for r in low.value.results if not r.passed] == [metric.gate]

    # A new version whose notebooks were never tested fails the tests gate.
    data["cells"][1]["source"] = ("score: float = 0.97  # the metric this step records\n"
                                  "rows: int = 3  # lines written")
    make.write_text(json.dumps(data))
    untested = build_job(bob, spec).version.version
    assert run_job(bob, spec, JobRunRequest(version=untested)).state == "succeeded"
    verdict = evaluate(bob, spec, bob.registry.jobs.version("flow", untested), "staging")
    assert {r.gate: r.passed for r in verdict.results} == {
        "lint": False, "tests": False, "succeeded_run": True}


def test_force_needs_an_admin_and_a_reason_and_is_marked(
        as_user: Callable[[str], api.Project], spec: JobSpec) -> None:
    bob, admin = as_user("bob"), as_user("root-admin")
    version = build_job(bob, spec).version.version
    with pytest.raises(NotAllowed, match="--force needs an admin"):
        promote(bob, spec, version, "staging", force=True, reason="hotfix")
    outcome = promote(admin, spec, version, "staging", force=True, reason="hotfix")
    assert outcome.moved and outcome.forced
    forced = [e for e in admin.registry.jobs.audit("flow") if e.forced and e.outcome == "ok"]
    assert forced and forced[0].reason == "hotfix"


def test_rollback_restores_the_previous_version_and_the_audit_shows_every_step(
        as_user: Callable[[str], api.Project], spec: JobSpec, root: Path) -> None:
    admin = as_user("root-admin")
    first = build_job(admin, spec).version.version
    promote(admin, spec, first, "dev")
    make = root / "notebooks" / "make.ipynb"
    data = json.loads(make.read_text())
    data["cells"].append({"cell_type": "markdown", "id": "m2", "metadata": {},
                          "source": "v2"})
    make.write_text(json.dumps(data))
    second = build_job(admin, spec).version.version
    promote(admin, spec, second, "dev")
    with pytest.raises(GateFailed):
        promote(admin, spec, second, "staging")  # refused: recorded too
    pointer = rollback(admin, spec, "dev", reason="bad numbers")
    assert pointer.version == first
    with pytest.raises(NotFound, match="nothing to roll back"):
        rollback(admin, spec, "dev")
    log = [(e.action, e.outcome, e.stage, e.from_version, e.to_version)
           for e in reversed(admin.registry.jobs.audit("flow"))]
    assert log == [
        ("build", "ok", None, None, first),
        ("promote", "ok", "dev", None, first),
        ("build", "ok", None, None, second),
        ("promote", "ok", "dev", first, second),
        ("promote", "refused", "staging", None, second),
        ("rollback", "ok", "dev", second, first),
        ("rollback", "refused", "dev", first, None),
    ]


class _Rendezvous:
    """A gate that waits until both promotions have read the stage, then lets them race."""

    name = "rendezvous"
    summary = "test gate"

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=30)

    def evaluate(self, context: Any, options: Mapping[str, Any]) -> GateResult:
        self.barrier.wait()
        return GateResult(self.name, True, "both promotions are past their reads")


def test_two_promotions_at_once_one_wins_one_conflicts_both_audited(
        as_user: Callable[[str], api.Project], spec: JobSpec, root: Path) -> None:
    admin = as_user("root-admin")
    one = build_job(admin, spec).version.version
    make = root / "notebooks" / "make.ipynb"
    data = json.loads(make.read_text())
    data["cells"].append({"cell_type": "markdown", "id": "m3", "metadata": {}, "source": "v2"})
    make.write_text(json.dumps(data))
    two = build_job(admin, spec).version.version
    promote(admin, spec, one, "dev")  # the stage exists: both racers read revision 1
    gates = GateSet({"rendezvous": _Rendezvous()})
    racing_spec = JobSpec(name=spec.name, steps=spec.steps, stages=spec.stages,
                          promotion={"dev": _policy("rendezvous")})
    outcomes: dict[str, Any] = {}

    def race(user: str, version: int) -> None:
        project = as_user(user)
        try:
            outcomes[user] = promote(project, racing_spec, version, "dev", gates=gates)
        except Conflict as exc:
            outcomes[user] = exc

    threads = [threading.Thread(target=race, args=("ann", two)),
               threading.Thread(target=race, args=("dan", two))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    kinds = sorted(type(v).__name__ for v in outcomes.values())
    assert kinds == ["Conflict", "PromotionOutcome"]
    conflict = next(v for v in outcomes.values() if isinstance(v, Conflict))
    assert conflict.exit_code == 7
    entries = [e for e in admin.registry.jobs.audit("flow") if e.stage == "dev"
               and e.user in ("ann", "dan")]
    assert sorted(e.outcome for e in entries) == ["conflict", "ok"]


def _policy(gate: str) -> Any:
    from nbprod.jobs.spec import GateSpec, StagePolicy

    return StagePolicy(gates=(GateSpec(gate),))


def test_cli_exit_codes_and_json(root: Path) -> None:
    env = {"NBPROD_USER": "bob"}
    code, built = run_json(root, "job", "build", "flow", env=env)
    assert code == 0 and built["version"] == 1 and built["created"] is True
    code, refused = run_json(root, "promote", "flow", "1", "--to", "staging", env=env)
    assert code == 5
    assert refused["moved"] is False
    assert {g["gate"] for g in refused["gates"] if not g["passed"]} == {
        "lint", "tests", "succeeded_run"}
    proc = run_cli(root, "promote", "flow", "1", "--to", "production", env=env)
    assert proc.returncode == 6 and "may not promote" in proc.stderr
    assert run_cli(root, "approve", "flow", "1", env=env).returncode == 6
    code, dry = run_json(root, "promote", "flow", "1", "--to", "dev", "--dry-run", env=env)
    assert code == 0 and dry["moved"] is False
    code, moved = run_json(root, "promote", "flow", "1", "--to", "dev", env=env)
    assert code == 0 and moved["moved"] is True
    code, stages = run_json(root, "stages", "flow", env=env)
    assert [(s["stage"], (s["pointer"] or {}).get("version")) for s in stages] == [
        ("dev", 1), ("staging", None), ("production", None)]
    code, log = run_json(root, "audit", "flow", env=env)
    assert [(e["action"], e["outcome"]) for e in log][:4] == [
        ("promote", "ok"), ("approve", "not_allowed"), ("promote", "not_allowed"),
        ("promote", "refused")]
    proc = run_cli(root, "job", "run", "flow", "--stage", "production", env=env)
    assert proc.returncode == 2 and "points at no version" in proc.stderr


def test_a_refusal_by_gates_is_an_outcome_below_the_cli(
        as_user: Callable[[str], api.Project], spec: JobSpec) -> None:
    """The CLI renders; try_promote decides (issue 9 §4: the GateFailed catch was in the CLI)."""
    from nbprod.api.promotion import try_promote

    bob = as_user("bob")
    version = build_job(bob, spec).version.version
    outcome = try_promote(bob, spec, version, "staging")
    assert outcome.refused is not None and not outcome.moved
    assert outcome.exit_code == 5
    assert _gates(outcome) == {"lint": False, "tests": False, "succeeded_run": False}
    data = outcome.to_json()
    assert data["error"]["type"] == "GateFailed" and data["passed"] is False
    assert [e.outcome for e in api.promotion.audit_log(bob, spec.name)][:1] == ["refused"]
    dry = try_promote(bob, spec, version, "staging", dry_run=True)
    assert dry.refused is None and dry.exit_code == 0 and not dry.verdict.passed
    assert try_promote(bob, spec, version, "dev").exit_code == 0
