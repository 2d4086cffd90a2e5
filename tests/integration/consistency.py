"""The registry/store invariants every test can assert after it is done."""

from __future__ import annotations

import hashlib
from pathlib import Path

from nbprod.api import Project, list_runs


def assert_consistent(project: Project) -> None:
    """No run left running; every recorded artifact exists and matches its SHA-256."""
    for record in list_runs(project, last=None):
        assert record.state in ("succeeded", "failed", "lost"), record
        if record.state == "failed":
            assert record.failure is not None
        for artifact in record.artifacts:
            path = Path(artifact.location)
            assert path.is_file(), f"{record.run_id}: {artifact.name} missing"
            assert hashlib.sha256(path.read_bytes()).hexdigest() == artifact.sha256
            assert path.stat().st_size == artifact.size
