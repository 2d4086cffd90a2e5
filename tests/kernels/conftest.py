"""Fixtures for the fast-kernel tests: a private runtime folder for kernel templates.

Templates live in ``$XDG_RUNTIME_DIR/nbprod-UID``, shared by every nbprod process of the user.
These tests start, list, kill and stop templates, so they get a folder of their own (short:
Unix socket paths are limited to ~107 bytes) and stop whatever they started at the end.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbprod.kernels.client import stop_templates


@pytest.fixture(scope="package", autouse=True)
def private_runtime_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="nbk-", dir="/tmp"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_RUNTIME_DIR", str(folder))
        patch.setenv("NBPROD_WARM", "0")  # `python -m nbprod` runs in the process we start
        try:
            yield folder
        finally:
            stop_templates()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def fresh_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A runtime folder with no template yet (for tests that care how a template started)."""
    folder = Path(tempfile.mkdtemp(prefix="nbk-", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    try:
        yield folder
    finally:
        stop_templates()
        shutil.rmtree(folder, ignore_errors=True)
