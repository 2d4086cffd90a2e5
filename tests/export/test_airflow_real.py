"""The exported DAG, loaded by Airflow itself and run once (issue 9 §6).

Airflow lives in its own environment (``NBPROD_TEST_AIRFLOW``, default ``/opt/nbprod-airflow``;
``.ci/run`` creates it from ``.ci/airflow-constraints.txt``, ~300 MB): Airflow's ``DagBag``
must load the DAG without import errors, and ``airflow dags test`` must run it against the
example project, whose production stage then has a new succeeded job run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import require, run_json
from ..e2e.test_example_pipeline import example  # noqa: F401 - fixture

pytestmark = pytest.mark.slow
AIRFLOW = Path(os.environ.get("NBPROD_TEST_AIRFLOW", "/opt/nbprod-airflow"))
DAG_ID = "nbprod_pipeline"


def _airflow_env(home: Path, dags: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBPROD_", "AIRFLOW"))}
    # The task runs `nbprod`: this checkout's, first on PATH (the Airflow worker's install).
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__DAGS_FOLDER=str(dags),
               AIRFLOW__CORE__LOAD_EXAMPLES="False", NBPROD_WARM="0",
               AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT="120")
    return env


def _promote_to_production(example: Path) -> str:  # noqa: F811
    """Build the pipeline and take it through every gate, as alice (builder) and bob."""
    alice, bob = {"NBPROD_USER": "alice"}, {"NBPROD_USER": "bob"}
    code, built = run_json(example, "job", "build", "pipeline", env=alice)
    assert code == 0, built
    version = str(built["version"])
    for args in (("lint", "notebooks"), ("test", "notebooks"),
                 ("job", "run", "pipeline", "--version", version),
                 ("promote", "pipeline", version, "--to", "staging")):
        code, out = run_json(example, *args, env=alice)
        assert code == 0, (args, out)
    assert run_json(example, "approve", "pipeline", version, env=bob)[0] == 0
    code, moved = run_json(example, "promote", "pipeline", version, "--to", "production",
                           env=alice)
    assert code == 0, moved
    return version


def test_airflow_loads_the_dag_and_runs_the_production_stage(example: Path,  # noqa: F811
                                                              tmp_path: Path) -> None:
    require((AIRFLOW / "bin" / "airflow").is_file(),
            f"Airflow in a separate environment at {AIRFLOW} (.ci/run creates it)")
    version = _promote_to_production(example)
    code, exported = run_json(example, "job", "export", "pipeline", "--target", "airflow",
                              "--out", "deploy")
    assert code == 0, exported
    dags = example / "deploy" / "dags"
    env = _airflow_env(tmp_path / "airflow-home", dags)
    loaded = subprocess.run(
        [str(AIRFLOW / "bin" / "python"), "-c",
         "import json, sys\n"
         "from airflow.dag_processing.dagbag import DagBag\n"
         "bag = DagBag(dag_folder=sys.argv[1])\n"
         "dag = bag.dags.get(sys.argv[2])\n"
         "print(json.dumps({'dags': sorted(bag.dag_ids), 'errors': {k: str(v) for k, v in "
         "bag.import_errors.items()}, 'tasks': [t.task_id for t in dag.tasks] if dag else [],"
         " 'schedule': str(dag.schedule) if dag else None}))",
         str(dags), DAG_ID], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    bag = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert bag == {"dags": [DAG_ID], "errors": {}, "tasks": ["nbprod_job_run"],
                   "schedule": "0 6 * * *"}
    migrate = subprocess.run([str(AIRFLOW / "bin" / "airflow"), "db", "migrate"], env=env,
                             capture_output=True, text=True, timeout=600, check=False)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    ran = subprocess.run([str(AIRFLOW / "bin" / "airflow"), "dags", "test", DAG_ID], env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False)
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output[-4000:]
    assert "state=success" in output, output[-4000:]
    code, runs = run_json(example, "job", "runs", "pipeline")
    assert code == 0
    production = [r for r in runs if r["stage"] == "production"]
    assert len(production) == 1, runs
    assert production[0]["state"] == "succeeded"
    assert str(production[0]["version"]) == version
