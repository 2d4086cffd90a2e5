"""The repository's own example pipeline, run as README's tour does, in a fresh git checkout."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ..conftest import run_json

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed copy of the project: pyproject.toml and notebooks/."""
    root = tmp_path_factory.mktemp("example")
    # The tests act as alice and bob through NBPROD_USER, as CI service accounts would.
    (root / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text().replace(
        "[tool.nbprod]\n", '[tool.nbprod]\nidentity = "env"\n', 1))
    shutil.copytree(ROOT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns("nbprod-local", ".ipynb_checkpoints"))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "example"], cwd=root, check=True)
    return root


def test_prepare_train_evaluate(example: Path) -> None:
    code, prepared = run_json(example, "run", "prepare")
    assert code == 0, prepared
    assert prepared["values"]["rows_train"] > 0

    code, trained = run_json(example, "run", "notebooks/train.ipynb", "-p", "n_estimators", "50",
                             "-p", "test_size", "0.3")
    assert code == 0, trained
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=example, capture_output=True,
                            text=True, check=True).stdout.strip()

    code, shown = run_json(example, "show", trained["run_id"])
    assert code == 0
    assert shown["state"] == "succeeded"
    assert shown["parameters"] == {"n_estimators": 50, "test_size": 0.3}
    assert {"accuracy", "f1", "roc_auc"} <= set(shown["values"])
    assert 0.8 < shown["values"]["accuracy"] <= 1.0
    assert len(shown["notebook_version"]) == 64
    assert shown["lineage"]["git_commit"] == commit
    assert shown["lineage"]["git_dirty"] is False
    assert len(shown["lineage"]["environment_digest"]) == 64
    assert shown["lineage"]["upstream"] == {"prepare": prepared["run_id"]}
    names = {a["name"] for a in shown["artifacts"]}
    assert {"notebook.ipynb", "report.html", "record.json", "files/model.joblib"} <= names
    for artifact in shown["artifacts"]:
        data = Path(artifact["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == artifact["sha256"]
        assert len(data) == artifact["size"]

    code, evaluated = run_json(example, "run", "evaluate")
    assert code == 0, evaluated
    assert "files/evaluation.png" in {a["name"] for a in evaluated["artifacts"]}
    assert evaluated["lineage"]["upstream"] == {"prepare": prepared["run_id"],
                                                "train": trained["run_id"]}


def test_new_upstream_data_shows_in_diff(example: Path) -> None:
    _, first = run_json(example, "run", "train", "-p", "n_estimators", "20")
    _, prepared = run_json(example, "run", "prepare", "-p", "seed", "7")
    assert prepared["state"] == "succeeded"
    _, second = run_json(example, "run", "train", "-p", "n_estimators", "20")
    assert second["lineage"]["upstream"] == {"prepare": prepared["run_id"]}
    code, diff = run_json(example, "diff", first["run_id"], second["run_id"])
    assert code == 0
    sections = {(c["section"], c["name"]) for c in diff["changes"]}
    assert ("upstream", "prepare") in sections
    assert ("parameters", "n_estimators") not in sections


def test_pipeline_job_is_built_promoted_and_run_from_its_bundle(example: Path) -> None:
    alice, bob = {"NBPROD_USER": "alice"}, {"NBPROD_USER": "bob"}
    code, built = run_json(example, "job", "build", "pipeline", env=alice)
    assert code == 0, built
    version = str(built["version"])
    assert run_json(example, "lint", "notebooks", env=alice)[0] == 0
    code, tested = run_json(example, "test", "notebooks", env=alice)
    assert code == 0, tested
    code, job_run = run_json(example, "job", "run", "pipeline", "--version", version, env=alice)
    assert code == 0 and job_run["state"] == "succeeded"
    assert run_json(example, "promote", "pipeline", version, "--to", "staging",
                    env=alice)[0] == 0
    code, refused = run_json(example, "promote", "pipeline", version, "--to", "production",
                             env=alice)
    assert code == 5
    assert [g["gate"] for g in refused["gates"] if not g["passed"]] == ["approvals"]
    assert run_json(example, "approve", "pipeline", version, env=alice)[0] == 6  # the builder
    assert run_json(example, "approve", "pipeline", version, env=bob)[0] == 0
    code, moved = run_json(example, "promote", "pipeline", version, "--to", "production",
                           env=alice)
    assert code == 0 and moved["moved"] is True

    # The working tree changes (and breaks); the scheduled command runs what was promoted.
    train = example / "notebooks" / "train.ipynb"
    notebook = json.loads(train.read_text())
    notebook["cells"].insert(2, {"cell_type": "code", "execution_count": None, "id": "boom",
                                 "metadata": {}, "outputs": [],
                                 "source": "raise RuntimeError('not promoted')"})
    train.write_text(json.dumps(notebook))
    code, scheduled = run_json(example, "job", "run", "pipeline", "--stage", "production",
                               env=alice)
    assert code == 0 and scheduled["state"] == "succeeded"
    assert scheduled["version"] == built["version"] and scheduled["stage"] == "production"
    pinned = {s["name"]: s["notebook_version"] for s in built["manifest"]["steps"]}
    for step in scheduled["steps"]:
        _, record = run_json(example, "show", step["run_id"])
        assert record["notebook_version"] == pinned[step["step"]]
    code, tree = run_json(example, "job", "run", "pipeline", env=alice)
    assert code == 3 and tree["state"] == "failed"
