"""A job version's bundle: its manifest, notebooks and environment lock, in the store.

Notebooks and locks are stored content-addressed (``jobs/<job>/blobs/<sha256>``), so building
the same content again writes nothing new and every version shares unchanged files. The
manifest pins each step's notebook by version and hash; a version number is only a name for a
manifest, allocated by the registry. Materializing a version copies its notebooks out of the
store, verifying every hash, so a job run executes exactly what was built.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..notebook.load import read_notebook
from ..store import Store
from .lock import EnvironmentLock
from .spec import JobSpec


@dataclass(frozen=True)
class Manifest:
    """What a job version pins (``version`` is set once the registry numbers it)."""

    content: dict[str, Any]

    @property
    def digest(self) -> str:
        """SHA-256 of the content: equal content, equal digest, same version number."""
        return hashlib.sha256(json.dumps(self.content, sort_keys=True).encode()).hexdigest()


def blob_key(job: str, sha256: str) -> str:
    return f"jobs/{job}/blobs/{sha256}"


def manifest_key(job: str, version: int) -> str:
    return f"jobs/{job}/{version}/manifest.json"


def build_manifest(spec: JobSpec, root: Path, store: Store, lock: EnvironmentLock) -> Manifest:
    """Store the job's notebooks and lock (content-addressed) and describe them."""
    steps = []
    for step in spec.steps:
        path = root / step.notebook
        notebook = read_notebook(path)  # a malformed notebook cannot be built
        data = path.read_bytes()
        sha = put_blob(store, spec.name, data)
        steps.append({"name": step.name, "notebook": step.notebook,
                      "notebook_version": notebook.version, "sha256": sha, "size": len(data),
                      "kernel": notebook.kernel_name})
    lock_sha = put_blob(store, spec.name, lock.content)
    return Manifest({
        "job": spec.name,
        "steps": steps,
        "parameters": _plain(spec.parameters),
        "test_parameters": _plain(spec.test_parameters),
        "schedule": spec.schedule,
        "kernel": spec.kernel,
        "stages": list(spec.stages),
        "environment": {"kind": lock.kind, "filename": lock.filename, "sha256": lock_sha},
    })


def put_blob(store: Store, job: str, data: bytes) -> str:
    """Store ``data`` under its hash (once); return the hash."""
    sha = hashlib.sha256(data).hexdigest()
    _put_once(store, blob_key(job, sha), lambda: data)
    return sha


def put_manifest(store: Store, job: str, version: int, manifest: Mapping[str, Any]) -> None:
    _put_once(store, manifest_key(job, version), lambda: json.dumps(
        {**manifest, "version": version}, indent=2, sort_keys=True).encode())


def _put_once(store: Store, key: str, data: Callable[[], bytes]) -> None:
    """Write an immutable object unless it is there; a concurrent writer of it is fine."""
    if store.exists(key):
        return
    try:
        store.put_bytes(key, data())
    except StoreError:
        if not store.exists(key):  # not a concurrent writer of the same object
            raise


def materialize(manifest: Mapping[str, Any], store: Store, folder: Path) -> dict[str, Path]:
    """Write the version's notebooks under ``folder``; step name -> notebook path."""
    job = manifest["job"]
    paths: dict[str, Path] = {}
    for step in manifest["steps"]:
        data = store.read_bytes(blob_key(job, step["sha256"]), step["sha256"])
        target = folder / step["notebook"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        paths[step["name"]] = target
    return paths


def read_lock(manifest: Mapping[str, Any], store: Store) -> bytes:
    env = manifest["environment"]
    return store.read_bytes(blob_key(manifest["job"], env["sha256"]), env["sha256"])


def _plain(value: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {step: dict(params) for step, params in value.items()}
