"""The artifact store contract, and the key rules every store enforces.

A key is a ``/``-separated path such as ``runs/<run_id>/files/model.joblib``. Every segment is
allowlisted (``[A-Za-z0-9._-]``, not ``.`` or ``..``), so a recorded name can never reach outside
the store. Objects are immutable: written once, atomically, with their SHA-256 returned and
verified again on read.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..errors import IntegrityError, StoreError

_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
# The whole key at once (the common, valid case: one match, no split): segments as _SEGMENT
# allows, none of them "." or "..".
_KEY = re.compile(r"(?!\.\.?(?:/|$))[A-Za-z0-9._-]+(?:/(?!\.\.?(?:/|$))[A-Za-z0-9._-]+)*")
MAX_KEY_LENGTH = 512


@dataclass(frozen=True)
class StoredObject:
    """What a store reports after committing one object."""

    key: str
    sha256: str
    size: int


@runtime_checkable
class Store(Protocol):
    """Where run artifacts live. Implementations: a local folder, an fsspec URL."""

    url: str

    def put_file(self, key: str, source: Path) -> StoredObject:
        """Copy ``source`` to ``key`` atomically; return its hash and size."""
        ...

    def put_bytes(self, key: str, data: bytes) -> StoredObject:
        """Write ``data`` to ``key`` atomically; return its hash and size."""
        ...

    def read_bytes(self, key: str, sha256: str | None = None) -> bytes:
        """Read ``key``; if ``sha256`` is given, raise IntegrityError when it differs."""
        ...

    def exists(self, key: str) -> bool:
        ...

    def location(self, key: str) -> str:
        """Where a user finds the object: a file path or a URL."""
        ...

    def fetch_folder(self, key_prefix: str, target: Path,
                     expected: Mapping[str, str]) -> Path:
        """Copy the objects ``expected`` names (name under ``key_prefix`` -> SHA-256) into
        ``target``, each verified and read-only, and return ``target``: what a kernel reads
        is a checked copy, never the store's own file. A hash that differs is an
        IntegrityError naming the object; a missing object a StoreError."""
        ...


def check_key(key: str) -> str:
    """Return ``key`` if every segment is allowlisted, else raise StoreError."""
    if len(key) <= MAX_KEY_LENGTH and _KEY.fullmatch(key):
        return key
    if not key or len(key) > MAX_KEY_LENGTH:
        raise StoreError(f"artifact name {key[:80]!r} is empty or too long")
    for segment in key.split("/"):
        if segment in ("", ".", "..") or not _SEGMENT.fullmatch(segment):
            raise StoreError(
                f"artifact name {key!r} is not allowed",
                hint="use letters, digits, '.', '_' and '-' in each part of the name")
    return key


def copy_verified(chunks: Iterable[bytes], destination: Path, key: str, sha256: str) -> None:
    """Write ``chunks`` to a new ``destination``, check their SHA-256, make it read-only.

    A mismatch removes the copy and raises IntegrityError naming ``key``.
    """
    digest = hashlib.sha256()
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        with destination.open("xb") as handle:
            for chunk in chunks:
                digest.update(chunk)
                handle.write(chunk)
    except OSError as exc:
        destination.unlink(missing_ok=True)
        raise StoreError(f"cannot copy artifact {key} to {destination}: "
                         f"{exc.strerror or exc}") from None
    if digest.hexdigest() != sha256:
        destination.unlink(missing_ok=True)
        raise IntegrityError(key, sha256, digest.hexdigest())
    os.chmod(destination, 0o444)


def is_valid_name(name: str) -> bool:
    """Whether a relative artifact name passes :func:`check_key`."""
    try:
        check_key(name)
    except StoreError:
        return False
    return True
