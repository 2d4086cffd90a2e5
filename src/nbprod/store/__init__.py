"""Artifact stores: immutable objects written atomically and verified by SHA-256."""

from __future__ import annotations

from pathlib import Path

from ..errors import SettingsError
from .base import Store, StoredObject, check_key, is_valid_name
from .local import LocalStore

__all__ = ["LocalStore", "Store", "StoredObject", "check_key", "is_valid_name", "open_store"]


def open_store(url: str) -> Store:
    """The store for a folder path (``file://`` allowed)."""
    if url.startswith("file://"):
        url = url[len("file://"):]
    if "://" in url:
        scheme = url.split("://", 1)[0]
        raise SettingsError(f"store {url!r}: the '{scheme}' scheme is not supported yet",
                            hint="use a local folder for the store")
    return LocalStore(Path(url))
