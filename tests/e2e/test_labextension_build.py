"""The JupyterLab extension that is installed is the one the repository's sources build: a copy
of labextension/ (its node packages hard-linked, as `jlpm install --immutable` left them) is
built again in another folder, and every file comes out with the same content hash as the
installed one, the entry file too. That holds because labextension/rspack.config.js names
modules instead of hashing them: the container module's name holds the checkout's absolute
path, so with hashed ids its id, and now and then (by collision) a style module's, changed with
the folder (CI failed so in /tmp/pytest-of-root/pytest-319).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("src", "style", "package.json", "rspack.config.js", "tsconfig.json", "yarn.lock",
           ".yarnrc.yml", "install.json")


def chunks(folder: Path) -> set[str]:
    return {p.name for p in (folder / "static").iterdir()}


def test_the_installed_extension_is_built_from_these_sources(tmp_path: Path) -> None:
    here = ROOT / "labextension"
    if not (here / "node_modules").is_dir():
        pytest.fail("labextension/node_modules is missing: run make setup (it runs make lab)")
    copy = tmp_path / "labextension"
    copy.mkdir()
    for name in SOURCES:
        source = here / name
        if source.is_dir():
            shutil.copytree(source, copy / name)
        else:
            shutil.copy(source, copy / name)
    shutil.copytree(here / "node_modules", copy / "node_modules", symlinks=True,
                    copy_function=os.link)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    built = subprocess.run([str(Path(sys.executable).parent / "jlpm"), "build"], cwd=copy,
                           env=env, capture_output=True, text=True, timeout=600, check=False)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    fresh, installed = tmp_path / "nbprod" / "labextension", ROOT / "nbprod" / "labextension"
    assert chunks(fresh) == chunks(installed), "nbprod/labextension is stale: run make lab"
    assert json.loads((installed / "install.json").read_text())["packageName"] == "nbprod"
    meta = json.loads((installed / "package.json").read_text())
    assert meta["name"] == "nbprod-lab" and re.fullmatch(r"static/remoteEntry\.\w+\.js",
                                                         meta["jupyterlab"]["_build"]["load"])
    assert (installed / meta["jupyterlab"]["_build"]["load"]).is_file()
