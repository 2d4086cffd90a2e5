"""Installing nbprod enables its Jupyter server extension, and JupyterLab serves /nbprod/.

The wheel is built from this checkout and installed into a fresh environment (a venv whose
other packages come from this one), exactly as ``pip install nbprod`` would install it: its
``etc/jupyter/jupyter_server_config.d/nbprod.json`` enables ``nbprod.server``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ..server.conftest import DATA, free_port, server_env

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the nbprod wheel installed (its dependencies from this venv)."""
    tmp = tmp_path_factory.mktemp("install")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "-w", str(tmp / "wheel"), str(ROOT)],
                           capture_output=True, text=True, timeout=600, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next((tmp / "wheel").glob("nbprod-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(sysconfig.get_paths(vars={"base": str(venv)})["purelib"])
    (purelib / "base.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                           "--no-index", "--ignore-installed", "--prefix", str(venv),
                           str(wheel)], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return venv


def test_the_wheel_enables_the_extension(installed: Path, tmp_path: Path) -> None:
    config = installed / "etc" / "jupyter" / "jupyter_server_config.d" / "nbprod.json"
    assert config.is_file()
    listed = subprocess.run(
        [str(installed / "bin" / "python"), "-m", "jupyter_server.extension.serverextension",
         "list"], capture_output=True, text=True, timeout=120, check=False,
        env=server_env(tmp_path), cwd=tmp_path)
    output = listed.stdout + listed.stderr
    assert f"Config dir: {installed}/etc/jupyter" in output
    section = output.split(f"Config dir: {installed}/etc/jupyter", 1)[1]
    assert "nbprod.server \x1b[32menabled\x1b[0m" in section, output
    assert "nbprod.server 0.1.0 \x1b[32mOK\x1b[0m" in section, output
    where = subprocess.run([str(installed / "bin" / "python"), "-c",
                            "import nbprod.server; print(nbprod.server.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path)
    assert where.stdout.startswith(str(installed))  # the wheel's copy, not this checkout


def test_the_wheel_enables_the_lab_extension_without_a_rebuild(installed: Path,
                                                               tmp_path: Path) -> None:
    shipped = installed / "share" / "jupyter" / "labextensions" / "nbprod-lab"
    assert (shipped / "package.json").is_file() and (shipped / "install.json").is_file()
    assert list((shipped / "static").glob("remoteEntry.*.js"))
    listed = subprocess.run([str(installed / "bin" / "python"), "-m", "jupyterlab.labextensions",
                             "list"], capture_output=True, text=True, timeout=120, check=False,
                            env=server_env(tmp_path), cwd=tmp_path)  # jupyter labextension list
    output = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)
    section = output.split(f"{installed}/share/jupyter/labextensions", 1)[-1]
    assert re.search(r"nbprod-lab v0\.1\.0 enabled OK \(python, nbprod\)", section), output


@pytest.fixture
def lab(installed: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``jupyter lab`` from the installed environment, on a small project, with a token."""
    root = tmp_path / "proj"
    root.mkdir()
    shutil.copy(DATA / "notebooks" / "ok.ipynb", root)
    (root / "nbprod.toml").write_text('notebook_dir = "."\n')
    port, token = free_port(), "lab-token-123"
    args = [str(installed / "bin" / "python"), "-m", "jupyterlab", "--no-browser",
            f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0"]
    if os.geteuid() == 0:
        args.append("--allow-root")
    log = tmp_path / "lab.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=root, env=server_env(tmp_path), stdout=out,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            try:
                if requests.get(f"{base}/api/status", timeout=5,
                                headers={"Authorization": f"token {token}"}).ok:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError(f"jupyter lab did not answer:\n{log.read_text()}")
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_jupyter_lab_serves_nbprod_behind_its_login(lab: tuple[str, str]) -> None:
    base, token = lab
    page = requests.get(f"{base}/nbprod/", allow_redirects=False, timeout=30)
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/login?next=%2Fnbprod%2F")
    assert requests.get(f"{base}/nbprod/api/runs", timeout=30).status_code == 403
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    runs = session.get(f"{base}/nbprod/api/runs", timeout=30)
    assert runs.status_code == 200 and runs.json()["runs"] == []
    me = session.get(f"{base}/nbprod/api/me", timeout=30).json()
    import getpass

    assert me["user"] == getpass.getuser()  # the single-user server's owner
    dashboard = session.get(f"{base}/nbprod/notebooks", timeout=30)
    assert dashboard.status_code == 200 and "ok.ipynb" in dashboard.text
    assert session.get(f"{base}/lab", timeout=30).status_code == 200  # Lab is all there
    assert session.get(f"{base}/api/kernels", timeout=30).status_code == 200
