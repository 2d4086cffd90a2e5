"""Security: roles, separation of duties and gates that hold; secrets that stay secret; a
report that runs none of the payloads in its outputs."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from nbprod import api
from nbprod.api.jobs import build_job
from nbprod.api.promotion import promote
from nbprod.config import load_settings
from nbprod.errors import Conflict
from nbprod.jobs.spec import JobSpec, job_spec
from nbprod.promote.gates import GateSet

from ..conftest import run_json
from ..integration.test_promotion import _policy, _Rendezvous
from ..security import test_secrets as secrets_case
from ..security.conftest import jobs_project

pytestmark = pytest.mark.slow


@pytest.fixture
def flow(tmp_path: Path, registry_env: dict[str, str]) -> tuple[Path, dict[str, str]]:
    root = jobs_project(tmp_path / "flow")
    assert run_json(root, "job", "build", "flow", env={**registry_env, "NBPROD_USER": "ann"}
                    )[0] == 0
    return root, registry_env


def _as(env: dict[str, str], user: str) -> dict[str, str]:
    return {**env, "NBPROD_USER": user}


def _audit(root: Path, env: dict[str, str]) -> list[tuple[str, str, str]]:
    code, rows = run_json(root, "audit", env=env)
    assert code == 0
    return [(r["action"], r["outcome"], r["user"]) for r in rows]


@pytest.mark.case("promote without the role")
def test_promote_without_the_role(flow: tuple[Path, dict[str, str]], seen) -> None:  # type: ignore[no-untyped-def]
    root, env = flow
    code, out = run_json(root, "promote", "flow", "1", "--to", "production", env=_as(env, "bob"))
    seen(f"{out['error']['type']}, exit {code}")
    assert code == 6 and out["error"]["message"].startswith(
        "bob may not promote flow to production")
    assert ("promote", "not_allowed", "bob") in _audit(root, env)
    code, stages = run_json(root, "stages", "flow", env=env)
    assert code == 0 and all(s.get("version") is None for s in stages)


@pytest.mark.case("self-approval")
def test_self_approval(flow: tuple[Path, dict[str, str]], seen) -> None:  # type: ignore[no-untyped-def]
    root, env = flow
    code, out = run_json(root, "approve", "flow", "1", env=_as(env, "ann"))  # ann built it
    seen(f"{out['error']['type']}, exit {code}")
    assert code == 6 and "ann built version 1 of flow and cannot approve it" in \
        out["error"]["message"]
    assert ("approve", "not_allowed", "ann") in _audit(root, env)


@pytest.mark.case("failed gate")
def test_failed_gate(flow: tuple[Path, dict[str, str]], seen) -> None:  # type: ignore[no-untyped-def]
    root, env = flow
    code, out = run_json(root, "promote", "flow", "1", "--to", "staging", env=_as(env, "bob"))
    failed = [g["gate"] for g in out["gates"] if not g["passed"]]
    seen(f"GateFailed ({', '.join(failed)}), exit {code}")
    assert code == 5 and failed == ["lint", "tests", "succeeded_run"]
    assert out["moved"] is False and out["error"]["type"] == "GateFailed"
    assert ("promote", "refused", "bob") in _audit(root, env)


@pytest.mark.case("two promotions at once")
def test_two_promotions_at_once(tmp_path: Path, backend: str, seen) -> None:  # type: ignore[no-untyped-def]
    root = jobs_project(tmp_path / "race")
    settings = load_settings(root, env={"NBPROD_REGISTRY": backend} if backend else {})
    spec = job_spec(settings, "flow")
    with api.open_project(settings, {"NBPROD_USER": "root-admin"}) as admin:
        one = build_job(admin, spec).version.version
        make = root / "notebooks" / "make.ipynb"
        data = json.loads(make.read_text())
        data["cells"].append({"cell_type": "markdown", "id": "v2", "metadata": {},
                              "source": "v2"})
        make.write_text(json.dumps(data))
        two = build_job(admin, spec).version.version
        promote(admin, spec, one, "dev")
    gates = GateSet({"rendezvous": _Rendezvous()})
    racing = JobSpec(name=spec.name, steps=spec.steps, stages=spec.stages,
                     promotion={"dev": _policy("rendezvous")})
    outcomes: list[object] = []

    def race(user: str) -> None:
        with api.open_project(settings, {"NBPROD_USER": user}) as project:
            try:
                outcomes.append(promote(project, racing, two, "dev", gates=gates))
            except Conflict as exc:
                outcomes.append(exc)

    threads = [threading.Thread(target=race, args=(u,)) for u in ("ann", "dan")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    exit_code = conflicts[0].exit_code if conflicts else "-"
    seen(f"1 moved, {len(conflicts)} Conflict (exit {exit_code})")
    assert len(outcomes) == 2 and len(conflicts) == 1 and conflicts[0].exit_code == 7
    with api.open_project(settings, {}) as project:
        rows = [e for e in project.registry.jobs.audit(spec.name) if e.version == two]
        assert sorted(e.outcome for e in rows if e.action == "promote") == ["conflict", "ok"]
        assert project.registry.jobs.stage(spec.name, "dev").version == two  # type: ignore[union-attr]


@pytest.mark.case("secrets never in outputs")
def test_secrets_never_in_outputs(project_dir: Path, backend: str,  # type: ignore[no-untyped-def]
                                  request: pytest.FixtureRequest, seen) -> None:
    secrets_case.test_secret_values_appear_nowhere(
        project_dir, "postgres" if backend else "sqlite", request)
    seen("absent from .nbprod/, registry dump, logs, --json")
