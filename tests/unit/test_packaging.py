"""The package list in pyproject.toml matches the tree: nbprod/ and templates/ ship whole."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _declared() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"nbprod.templates": "templates"}
    return set(config["packages"])


def _on_disk() -> set[str]:
    names = set()
    for init in (ROOT / "nbprod").rglob("__init__.py"):
        if "__pycache__" not in init.parts:
            names.add(".".join(init.parent.relative_to(ROOT).parts))
    for folder in [ROOT / "templates", *(ROOT / "templates").rglob("*")]:
        if folder.is_dir() and "__pycache__" not in folder.parts:
            names.add(".".join(("nbprod", *folder.relative_to(ROOT).parts)))
    return names


def test_every_package_and_template_folder_is_declared() -> None:
    assert _declared() == _on_disk()


def test_there_is_no_src_folder() -> None:
    assert not (ROOT / "src").exists()
