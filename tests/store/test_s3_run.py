"""A real run whose artifacts go to S3 (moto), through the CLI as a user runs it."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from ..conftest import DATA, run_cli, run_json
from .conftest import S3

pytestmark = pytest.mark.slow


def test_a_run_stores_its_artifacts_in_s3(s3: S3, bucket: str, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "nbprod.toml").write_text('notebook_dir = "."\n')
    shutil.copy(DATA / "ok.ipynb", project / "ok.ipynb")
    env = {**s3.env, "NBPROD_STORE": f"s3://{bucket}/runs-prefix"}

    code, record = run_json(project, "run", "ok.ipynb", env=env)

    assert code == 0, record
    assert record["state"] == "succeeded"
    names = {a["name"] for a in record["artifacts"]}
    assert {"notebook.ipynb", "report.html", "files/out.txt"} <= names
    fs = s3.filesystem()
    for artifact in record["artifacts"]:
        assert artifact["path"] == (f"s3://{bucket}/runs-prefix/runs/{record['run_id']}/"
                                    f"{artifact['name']}")
        data = fs.cat_file(artifact["path"])
        assert hashlib.sha256(data).hexdigest() == artifact["sha256"]
        assert len(data) == artifact["size"]
    assert fs.cat_file(f"s3://{bucket}/runs-prefix/runs/{record['run_id']}/files/out.txt") \
        == b"a:1"
    assert not (project / ".nbprod" / "artifacts").exists()  # nothing went to the local store

    shown = run_cli(project, "show", record["run_id"], "--verify", env=env)
    assert shown.returncode == 0, shown.stderr
    code, again = run_json(project, "show", record["run_id"], "--verify", env=env)
    assert code == 0 and again["corrupt_artifacts"] == []
    assert all(a["path"].startswith("s3://") for a in again["artifacts"])

    # A tampered object is caught by --verify.
    fs.pipe_file(f"{bucket}/runs-prefix/runs/{record['run_id']}/files/out.txt", b"changed")
    tampered = run_cli(project, "show", record["run_id"], "--verify", env=env)
    assert tampered.returncode == 4
    assert "artifact files/out.txt does not match its record" in tampered.stderr
    assert hashlib.sha256(b"changed").hexdigest() in tampered.stderr
