"""Artifact stores: immutable objects written atomically and verified by SHA-256.

:func:`open_store` opens a plain path as a local folder (:class:`LocalStore`). For a URL it
looks the scheme up in the ``nbprod.stores`` entry-point group first (name = scheme; value = a
callable ``(url, storage_options) -> Store``), then falls back to the built-ins: ``file://``
is a local folder, any other scheme an fsspec URL (:class:`~nbprod.store.fsspec_store.
FsspecStore`; fsspec is imported only then).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import SettingsError
from .base import Store, StoredObject, check_key, is_valid_name
from .fsspec_store import FsspecStore  # imports fsspec only when a store is opened
from .local import LocalStore

__all__ = ["FsspecStore", "LocalStore", "Store", "StoredObject", "check_key", "is_valid_name",
           "open_local", "open_store"]

StoreFactory = Callable[[str, Mapping[str, Any] | None], Store]


def open_store(url: str, storage_options: Mapping[str, Any] | None = None) -> Store:
    """The store for a folder path, a ``file://`` URL, or another scheme's URL."""
    if "://" not in url:  # a plain folder path: no plugin lookup (it costs ~25 ms)
        return open_local(url, storage_options)
    scheme = url.split("://", 1)[0].lower()
    factory = _plugin(scheme)
    if factory is not None:
        store = factory(url, storage_options)
        if not isinstance(store, Store):
            raise SettingsError(f"store {scheme!r} (entry point nbprod.stores) returned "
                                f"{type(store).__name__}, not a store")
        return store
    if scheme == "file":
        return open_local(url, storage_options)
    return FsspecStore(url, storage_options)


def open_local(url: str, storage_options: Mapping[str, Any] | None = None) -> LocalStore:
    """Entry-point factory (``nbprod.stores``) for a folder path or ``file://`` URL."""
    return LocalStore(Path(url.removeprefix("file://")))


def _plugin(scheme: str) -> StoreFactory | None:
    """The factory a package registered for ``scheme``, if any."""
    from importlib.metadata import entry_points

    for point in entry_points(group="nbprod.stores", name=scheme):
        try:
            factory = point.load()
        except Exception as exc:
            raise SettingsError(f"store plugin {scheme!r} ({point.value}) cannot be loaded: "
                                f"{type(exc).__name__}: {exc}",
                                hint="reinstall the package that provides it") from exc
        if not callable(factory):
            raise SettingsError(f"store plugin {scheme!r} ({point.value}) is not callable")
        return factory  # type: ignore[no-any-return]
    return None

