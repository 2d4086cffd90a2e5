"""A store at an fsspec URL: ``s3://bucket/prefix`` (tested), ``gs://``, ``az://``, ``memory://``.

Each object is written with one request (``pipe_file``: on S3 one PUT, sent with
``If-None-Match: *`` so that of two writers racing on a key only one commits), so a reader
sees either nothing or the whole object and no temporary key is ever left behind. The SHA-256
is returned on write (and kept as object metadata on S3) and checked again on read.

Credentials and endpoints come from the backend's own defaults (for S3: ``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, region) or from
``storage_options``. Backend errors are translated here, into one-line StoreErrors that name
the store URL and never a secret.
"""

from __future__ import annotations

import errno
import hashlib
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import IntegrityError, NbprodError, SettingsError, StoreError
from ..urls import redact
from .base import StoredObject, check_key, copy_verified

# What to install for a protocol whose fsspec backend is missing (fsspec names the rest).
_INSTALL = {"s3": "pip install 'nbprod[s3]'", "s3a": "pip install 'nbprod[s3]'"}
_S3 = frozenset({"s3", "s3a"})


class FsspecStore:
    """Artifacts under a prefix of an fsspec filesystem (objects at ``<prefix>/<key>``)."""

    def __init__(self, url: str, storage_options: Mapping[str, Any] | None = None) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme.lower()
        scheme, _, rest = redact(url.split("#", 1)[0].split("?", 1)[0]).partition("://")
        self.url = f"{scheme}://{rest.rstrip('/')}"
        if parts.query or parts.fragment:  # fsspec would take them as part of the object names
            raise SettingsError(f"store {self.url}?...: options in the URL are not supported",
                                hint="give them as storage options, or through the backend's "
                                     "environment variables (AWS_* for S3)")
        if not rest.strip("/"):
            raise SettingsError(f"store {self.url} names no bucket or folder",
                                hint=f"use {self.scheme}://BUCKET/PREFIX")
        # A filesystem of its own, reading the environment now, with no listing cache that
        # another writer could make stale.
        options = {"skip_instance_cache": True, "use_listings_cache": False,
                   **(storage_options or {})}
        try:
            import fsspec.core  # type: ignore[import-untyped,import-not-found,unused-ignore]

            self.fs, root = fsspec.core.url_to_fs(url, **options)
        except ImportError as exc:
            install = _INSTALL.get(self.scheme) or (
                "pip install fsspec" if exc.name == "fsspec" else _pip_hint(str(exc)))
            raise SettingsError(f"store {self.url}: the '{self.scheme}' scheme needs a package "
                                "that is not installed", hint=install) from exc
        except ValueError as exc:  # fsspec: "Protocol not known"
            raise SettingsError(f"store {self.url}: the '{self.scheme}' scheme is not supported",
                                hint="use a local folder or an fsspec URL such as "
                                     "s3://bucket/prefix") from exc
        self.root = str(root).rstrip("/")

    def _path(self, key: str) -> str:
        return f"{self.root}/{check_key(key)}"

    def location(self, key: str) -> str:
        return f"{self.url}/{check_key(key)}"

    def exists(self, key: str) -> bool:
        path = self._path(key)
        with self._errors("check", key):
            return bool(self.fs.exists(path))

    def put_file(self, key: str, source: Path) -> StoredObject:
        check_key(key)
        try:
            data = source.read_bytes()  # artifacts are bounded; one read, hashed and sent
        except FileNotFoundError:
            raise StoreError(f"cannot store {key}: {source} does not exist") from None
        except OSError as exc:
            raise StoreError(f"cannot store {key}: cannot read {source}: "
                             f"{exc.strerror or exc}") from None
        return self.put_bytes(key, data)

    def put_bytes(self, key: str, data: bytes) -> StoredObject:
        path = self._path(key)
        sha = hashlib.sha256(data).hexdigest()
        extra = {"Metadata": {"sha256": sha}} if self.scheme in _S3 else {}
        with self._errors("write", key):
            if self.fs.exists(path):
                raise FileExistsError(path)
            try:
                self.fs.pipe_file(path, data, mode="create", **extra)
            except (NotImplementedError, OSError) as exc:
                if isinstance(exc, OSError) and exc.errno != errno.ENOSYS:
                    raise
                # No conditional write on this backend (e.g. an S3 look-alike): exists()
                # above is the check, still one single write.
                self.fs.pipe_file(path, data, **extra)
        return StoredObject(key=key, sha256=sha, size=len(data))

    def read_bytes(self, key: str, sha256: str | None = None) -> bytes:
        path = self._path(key)
        with self._errors("read", key):
            data = bytes(self.fs.cat_file(path))
        if sha256 is not None:
            actual = hashlib.sha256(data).hexdigest()
            if actual != sha256:
                raise IntegrityError(key, sha256, actual)
        return data

    def fetch_folder(self, key_prefix: str, target: Path,
                     expected: Mapping[str, str]) -> Path:
        """Download the ``expected`` objects into ``target``, each hash-verified, read-only."""
        target.mkdir(parents=True, exist_ok=True)
        for name, sha256 in sorted(expected.items()):
            key = f"{key_prefix}/{check_key(name)}"
            path = self._path(key)
            with self._errors("read", key):
                data = bytes(self.fs.cat_file(path))
            copy_verified([data], target / name, key, sha256)
        return target

    @contextmanager
    def _errors(self, action: str, key: str) -> Iterator[None]:
        """Translate what the backend raises into StoreError; let nbprod's and bugs through."""
        try:
            yield
        except NbprodError:
            raise
        except Exception as exc:
            if not isinstance(exc, OSError) and type(exc).__module__ == "builtins":
                raise  # TypeError, KeyError...: a bug, not the store
            raise self._translate(exc, action, key) from exc

    def _translate(self, exc: Exception, action: str, key: str) -> StoreError:
        name = type(exc).__name__
        if isinstance(exc, FileExistsError):
            return StoreError(f"artifact {key} already exists in {self.url}",
                              hint="stored artifacts are immutable")
        if isinstance(exc, FileNotFoundError):
            if action == "read" and not _missing_bucket(exc):
                return StoreError(f"artifact {key} is missing from the store {self.url}")
            return StoreError(f"the bucket of the store {self.url} does not exist",
                              hint="create it, or set store (NBPROD_STORE) to an existing one")
        if "Credentials" in name:
            return StoreError(f"no credentials to access the store {self.url}",
                              hint=self._credentials_hint())
        if isinstance(exc, PermissionError):
            return StoreError(f"access to the store {self.url} was denied ({action} {key})",
                              hint="check the credentials and the bucket's permissions")
        if isinstance(exc, ConnectionError | TimeoutError) or "Connect" in name \
                or "Timeout" in name:
            return StoreError(f"cannot reach the store {self.url}{_endpoint(exc)}",
                              hint="check the endpoint"
                                   f"{' (AWS_ENDPOINT_URL)' if self.scheme in _S3 else ''}, "
                                   "the network, and that the service is running")
        detail = " ".join(str(exc).split())[:300]
        return StoreError(f"cannot {action} {key} in the store {self.url}: {name}: {detail}")

    def _credentials_hint(self) -> str:
        if self.scheme in _S3:
            return ("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the "
                    "environment")
        return f"configure the credentials of the '{self.scheme}' backend"


def open_fsspec(url: str, storage_options: Mapping[str, Any] | None = None) -> FsspecStore:
    """Entry-point factory (``nbprod.stores``) for fsspec URLs."""
    return FsspecStore(url, storage_options)


def _missing_bucket(exc: BaseException) -> bool:
    """Whether an S3 FileNotFoundError is about the bucket rather than the key."""
    cause = exc.__cause__
    code = getattr(cause, "response", {}).get("Error", {}).get("Code")
    return "NoSuchBucket" in (type(cause).__name__, code)


def _endpoint(exc: BaseException) -> str:
    """`` (endpoint http://host:port)`` from a botocore connection error, without userinfo."""
    url = getattr(exc, "kwargs", {}).get("endpoint_url")
    if not isinstance(url, str):
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f" (endpoint {parts.scheme}://{host}{f':{parts.port}' if parts.port else ''})"


def _pip_hint(message: str) -> str:
    """``pip install gcsfs`` out of fsspec's "Install gcsfs to access ..." message."""
    found = re.search(r"install\s+[`'\"]?([A-Za-z0-9_.-]+)", message, re.IGNORECASE)
    if found:
        return f"pip install {found.group(1)}"
    return f"install the fsspec backend for it ({message})"
