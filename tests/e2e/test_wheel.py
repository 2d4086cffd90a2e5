"""The package as users get it: an sdist and a wheel built from it, installed into a fresh
virtualenv, start a project and run its job there (a file missing from the package data, or a
path that only works in a checkout, fails here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert proc.returncode == 0, f"{' '.join(args)} exited {proc.returncode}:\n" \
                                 f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist, and the wheel built from that sdist (``python -m build`` does both)."""
    out = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBPROD_")}
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], ROOT, env)
    sdist, = out.glob("nbprod-*.tar.gz")
    wheel, = out.glob("nbprod-*.whl")
    return {"sdist": sdist, "wheel": wheel}


def test_wheel_ships_templates_migrations_and_types(built: dict[str, Path]) -> None:
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    for name in ("nbprod/py.typed", "nbprod/templates/project/pyproject.toml",
                 "nbprod/templates/project/gitignore",
                 "nbprod/templates/project/notebooks/train.ipynb",
                 "nbprod/templates/notebooks/blank.ipynb",
                 "nbprod/templates/export/Dockerfile.j2",
                 "nbprod/registry/migrations/env.py",
                 # the prebuilt JupyterLab extension (from the sdist: no node needed there)
                 "nbprod-0.1.0.data/data/share/jupyter/labextensions/nbprod-lab/package.json"):
        assert name in names, name
    assert any(n.startswith("nbprod-0.1.0.data/data/share/jupyter/labextensions/nbprod-lab/"
                            "static/remoteEntry.") for n in names)
    assert not any(n.startswith(("tests/", "templates/")) for n in names)


def test_fresh_venv_inits_a_project_and_runs_its_job(built: dict[str, Path],
                                                     tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NBPROD_", "VIRTUAL_ENV", "PYTHON"))}
    env["XDG_RUNTIME_DIR"] = str(tmp_path / "run")
    (tmp_path / "run").mkdir(mode=0o700)
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    python, nbprod = venv / "bin" / "python", venv / "bin" / "nbprod"
    _run([str(python), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"),
          f"{built['wheel']}[examples]"], tmp_path, env)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    assert _run([str(nbprod), "--version"], tmp_path, env).strip() == "nbprod, version 0.1.0"
    where = _run([str(python), "-c", "import nbprod; print(nbprod.__file__)"], tmp_path, env)
    assert where.startswith(str(venv)), where  # the installed copy, not the checkout
    (tmp_path / "work" / ".git").mkdir(parents=True)
    _run([str(nbprod), "init", "demo"], tmp_path / "work", env)
    project = tmp_path / "work" / "demo"
    try:
        result = json.loads(_run([str(nbprod), "job", "run", "pipeline", "--json"], project, env))
        assert result["state"] == "succeeded", result
        runs = json.loads(_run([str(nbprod), "runs", "--json"], project, env))
        assert {r["notebook"] for r in runs} == {"notebooks/prepare.ipynb",
                                                  "notebooks/train.ipynb"}
    finally:
        subprocess.run([str(nbprod), "kernels", "stop"], cwd=project, env=env,
                       capture_output=True, timeout=60, check=False)
