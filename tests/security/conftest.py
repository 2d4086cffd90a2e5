"""Helpers for the security tests: a copy of the small job project in tests/data/jobs."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..conftest import DATA

JOBS = DATA.parent / "jobs"


def jobs_project(root: Path, identity: str = "env") -> Path:
    """tests/data/jobs (job ``flow``: ``make`` then ``use``) at ``root``."""
    (root / "notebooks").mkdir(parents=True)
    text = (JOBS / "nbprod.toml").read_text()
    (root / "nbprod.toml").write_text(text.replace('identity = "env"', f'identity = "{identity}"'))
    for name in ("make", "use"):
        shutil.copy(JOBS / f"{name}.ipynb", root / "notebooks" / f"{name}.ipynb")
    return root
