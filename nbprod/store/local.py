"""A store in a local folder (the default: ``.nbprod/artifacts``).

Each object is written to a temporary file in its destination folder, made read-only, fsynced,
linked into place and the folder fsynced, so a reader sees either nothing or the whole file,
even if the machine stops mid-write, and a committed file is read-only on disk. Kernels get
verified copies (:meth:`LocalStore.fetch_folder`), never the store's own files.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ..errors import IntegrityError, StoreError
from .base import StoredObject, check_key, copy_verified

_CHUNK = 1 << 20


class LocalStore:
    """Artifacts under a root folder."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.url = str(self.root)

    def path(self, key: str) -> Path:
        """The file for ``key``; raises StoreError if it would leave the root."""
        target = (self.root / check_key(key)).resolve()
        if os.path.commonpath([self.root, target]) != str(self.root):
            raise StoreError(f"artifact name {key!r} resolves outside the store {self.root}")
        return target

    def location(self, key: str) -> str:
        """Where the object is, for people (no file-system access: listing 100,000 runs asks
        for 200,000 of these); reading goes through :meth:`path`, which checks links."""
        return f"{self.url}/{check_key(key)}"

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def fetch_folder(self, key_prefix: str, target: Path,
                     expected: Mapping[str, str]) -> Path:
        """Verified, read-only copies in ``target`` (a kernel never gets the store's files)."""
        target.mkdir(parents=True, exist_ok=True)
        for name, sha256 in sorted(expected.items()):
            key = f"{key_prefix}/{check_key(name)}"
            copy_verified(self._chunks(key), target / name, key, sha256)
        return target

    def _chunks(self, key: str) -> Iterator[bytes]:
        source = self.path(key)
        try:
            handle = source.open("rb")
        except FileNotFoundError:
            raise StoreError(f"artifact {key} is missing from the store {self.root}") from None
        except OSError as exc:
            raise StoreError(f"cannot read artifact {source}: {exc.strerror}") from None
        with handle:
            while chunk := handle.read(_CHUNK):
                yield chunk

    def put_file(self, key: str, source: Path) -> StoredObject:
        try:
            handle = source.open("rb")
        except FileNotFoundError:
            raise StoreError(f"cannot store {key}: {source} does not exist") from None
        except OSError as exc:
            raise StoreError(f"cannot store {key}: cannot read {source}: "
                             f"{exc.strerror or exc}") from None
        with handle:
            return self._write(key, handle)

    def put_bytes(self, key: str, data: bytes) -> StoredObject:
        import io

        return self._write(key, io.BytesIO(data))

    def read_bytes(self, key: str, sha256: str | None = None) -> bytes:
        target = self.path(key)
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"artifact {key} is missing from the store {self.root}") from None
        except OSError as exc:
            raise StoreError(f"cannot read artifact {target}: {exc.strerror}") from None
        if sha256 is not None:
            actual = hashlib.sha256(data).hexdigest()
            if actual != sha256:
                raise IntegrityError(key, sha256, actual)
        return data

    def _write(self, key: str, source: BinaryIO) -> StoredObject:
        target = self.path(key)
        if target.exists():
            raise StoreError(f"artifact {key} already exists in {self.root}",
                             hint="stored artifacts are immutable")
        digest = hashlib.sha256()
        size = 0
        with self._temporary(target) as (tmp, handle):
            while chunk := source.read(_CHUNK):
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            handle.flush()
            os.fchmod(handle.fileno(), 0o444)  # committed objects are read-only on disk
            os.fsync(handle.fileno())
            handle.close()
            _commit(tmp, target, key, self.root)
            _fsync_dir(target.parent)
        return StoredObject(key=key, sha256=digest.hexdigest(), size=size)

    @contextmanager
    def _temporary(self, target: Path) -> Iterator[tuple[Path, BinaryIO]]:
        """A temp file beside ``target``; removed on any failure, errors translated."""
        tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as handle:
                yield tmp, handle
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise _translate(exc, target) from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def _translate(exc: OSError, target: Path) -> StoreError:
    if exc.errno == errno.ENOSPC:
        free = shutil.disk_usage(target.parent if target.parent.exists() else "/").free
        return StoreError(f"disk full writing artifact {target} ({free} bytes free)",
                          hint="free space on that disk (or set store to another place) "
                               "and run again")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StoreError(f"cannot write artifact {target}: {exc.strerror}",
                          hint="check the store folder's permissions")
    return StoreError(f"cannot write artifact {target}: {exc.strerror or exc}")


def _commit(tmp: Path, target: Path, key: str, root: Path) -> None:
    """Move the finished temp file into place, never over an existing object.

    A hard link is atomic and fails if the target exists, so two writers racing on one key
    cannot overwrite each other; filesystems without hard links fall back to rename.
    """
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise StoreError(f"artifact {key} already exists in {root}",
                         hint="stored artifacts are immutable") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                             errno.EMLINK):
            raise
        os.replace(tmp, target)
        return
    tmp.unlink()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
