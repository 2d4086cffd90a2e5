"""Who acts is the OS user; NBPROD_USER counts only where settings say identity = "env".

Issue 9 §2: identity was whatever NBPROD_USER said, so roles and separation of duties were
advisory. Every audit row now keeps both the OS user and the claimed one.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from ..conftest import run_json
from .conftest import jobs_project

pytestmark = pytest.mark.slow
ME = pwd.getpwuid(os.getuid()).pw_name


def _project(tmp_path: Path, identity: str) -> Path:
    return jobs_project(tmp_path / "who", identity)


def test_nbprod_user_does_not_grant_a_role(tmp_path: Path) -> None:
    root = _project(tmp_path, "os")
    assert run_json(root, "job", "build", "flow")[0] == 0
    code, out = run_json(root, "promote", "flow", "1", "--to", "production",
                         env={"NBPROD_USER": "pat"})  # pat may promote to production
    assert code == 6, out
    assert out["error"]["message"].startswith(f"{ME} may not promote flow to production")
    code, approved = run_json(root, "approve", "flow", "1", env={"NBPROD_USER": "ann"})
    assert code == 6 and f"{ME} is not an approver" in approved["error"]["message"]
    code, rows = run_json(root, "audit")
    assert code == 0
    refused = [r for r in rows if r["outcome"] == "not_allowed"]
    assert {(r["action"], r["user"], r["os_user"], r["claimed_user"]) for r in refused} == {
        ("promote", ME, ME, "pat"), ("approve", ME, ME, "ann")}
    build = next(r for r in rows if r["action"] == "build")
    assert (build["user"], build["os_user"], build["claimed_user"]) == (ME, ME, None)


def test_identity_env_trusts_nbprod_user_and_audits_both(tmp_path: Path) -> None:
    root = _project(tmp_path, "env")
    assert run_json(root, "job", "build", "flow", env={"NBPROD_USER": "ci-bot"})[0] == 0
    code, _out = run_json(root, "approve", "flow", "1", env={"NBPROD_USER": "ann"})
    assert code == 0
    code, rows = run_json(root, "audit")
    assert {(r["action"], r["user"], r["os_user"], r["claimed_user"]) for r in rows} == {
        ("build", "ci-bot", ME, "ci-bot"), ("approve", "ann", ME, "ann")}


def test_identity_cannot_come_from_the_environment(tmp_path: Path) -> None:
    root = _project(tmp_path, "os")
    assert run_json(root, "job", "build", "flow")[0] == 0
    code, out = run_json(root, "approve", "flow", "1",
                         env={"NBPROD_USER": "ann", "NBPROD_IDENTITY": "env"})
    assert code == 6 and f"{ME} is not an approver" in out["error"]["message"]
