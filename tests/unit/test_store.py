"""The local artifact store: atomic immutable writes, safe keys, verified reads."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import pathlib
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from nbprod.errors import EXIT_INFRA, IntegrityError, SettingsError, StoreError
from nbprod.store import LocalStore, check_key, is_valid_name, open_store


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "artifacts")


def _all_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir())


def test_put_bytes_returns_sha256_and_size(store: LocalStore) -> None:
    data = b"hello\x00world" * 1000

    stored = store.put_bytes("runs/r1/files/blob.bin", data)

    assert stored.key == "runs/r1/files/blob.bin"
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    assert (store.root / "runs/r1/files/blob.bin").read_bytes() == data
    assert _all_files(store.root) == ["runs/r1/files/blob.bin"]


def test_put_file_copies_a_large_file_completely(store: LocalStore, tmp_path: Path) -> None:
    source = tmp_path / "model.joblib"
    data = os.urandom(3 * (1 << 20) + 17)  # more than one chunk
    source.write_bytes(data)

    stored = store.put_file("runs/r1/files/model.joblib", source)

    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    assert Path(store.location("runs/r1/files/model.joblib")).read_bytes() == data
    assert store.exists("runs/r1/files/model.joblib")
    assert source.read_bytes() == data
    assert _all_files(store.root) == ["runs/r1/files/model.joblib"]


def test_empty_object(store: LocalStore) -> None:
    stored = store.put_bytes("empty", b"")

    assert (stored.size, stored.sha256) == (0, hashlib.sha256(b"").hexdigest())
    assert store.read_bytes("empty", stored.sha256) == b""


def test_read_bytes_verifies_the_hash(store: LocalStore) -> None:
    stored = store.put_bytes("a/b.txt", b"content")

    assert store.read_bytes("a/b.txt") == b"content"
    assert store.read_bytes("a/b.txt", stored.sha256) == b"content"


def test_read_with_a_wrong_hash_is_an_integrity_error(store: LocalStore) -> None:
    stored = store.put_bytes("runs/r1/record.json", b"{}")
    (store.root / "runs/r1/record.json").chmod(0o644)
    (store.root / "runs/r1/record.json").write_bytes(b"{tampered}")

    with pytest.raises(IntegrityError) as info:
        store.read_bytes("runs/r1/record.json", stored.sha256)

    error = info.value
    assert error.exit_code == EXIT_INFRA == 4
    assert isinstance(error, StoreError)
    assert error.key == "runs/r1/record.json"
    assert error.expected == stored.sha256
    assert error.actual == hashlib.sha256(b"{tampered}").hexdigest()
    assert "artifact runs/r1/record.json is corrupt" in error.one_line()
    assert stored.sha256[:12] in error.one_line()


def test_reading_a_missing_key(store: LocalStore) -> None:
    with pytest.raises(StoreError) as info:
        store.read_bytes("runs/none/x")

    assert info.value.one_line() == f"artifact runs/none/x is missing from the store {store.root}"
    assert not store.exists("runs/none/x")


def test_existing_key_is_never_overwritten(store: LocalStore, tmp_path: Path) -> None:
    first = store.put_bytes("runs/r1/a", b"first")
    source = tmp_path / "other"
    source.write_bytes(b"second")

    for write in (lambda: store.put_bytes("runs/r1/a", b"second"),
                  lambda: store.put_file("runs/r1/a", source)):
        with pytest.raises(StoreError) as info:
            write()
        assert "artifact runs/r1/a already exists" in info.value.one_line()
        assert "immutable" in info.value.one_line()

    assert store.read_bytes("runs/r1/a", first.sha256) == b"first"
    assert _all_files(store.root) == ["runs/r1/a"]


BAD_KEYS = ["..", "../x", "a/../../x", "/abs", "/etc/passwd", "a//b", "a/", "a\\b", "a b",
            "", ".", "a/./b", "é", "a:b", "a\x00b", "x" * 513, "runs/r1/files/../../../x"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_unsafe_keys_are_refused(store: LocalStore, key: str) -> None:
    with pytest.raises(StoreError) as info:
        store.put_bytes(key, b"x")

    assert info.value.exit_code == EXIT_INFRA
    assert "artifact name" in info.value.one_line()
    assert not is_valid_name(key)
    for call in (store.exists, store.read_bytes, store.location):
        with pytest.raises(StoreError):
            call(key)
    assert _all_files(store.root.parent) == []


@pytest.mark.parametrize("key", ["a", "runs/20240101-000000-000-abcdef/files/model.joblib",
                                 "a.b-c_d", "...", "x" * 512, "A/B/C/D/E"])
def test_allowed_keys(key: str) -> None:
    assert check_key(key) == key
    assert is_valid_name(key)


def test_key_with_trailing_newline_is_refused(store: LocalStore) -> None:
    assert not is_valid_name("model.joblib\n")
    with pytest.raises(StoreError):
        store.put_bytes("model.joblib\n", b"x")


def test_symlink_inside_the_store_pointing_outside_is_refused(store: LocalStore,
                                                              tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    store.root.mkdir(parents=True)
    (store.root / "link").symlink_to(outside, target_is_directory=True)
    (store.root / "file-link").symlink_to(outside / "secret")

    for key in ("link/secret", "link/new", "file-link"):
        with pytest.raises(StoreError) as info:
            store.read_bytes(key)
        assert "resolves outside the store" in info.value.one_line()
    with pytest.raises(StoreError):
        store.put_bytes("link/new", b"escape")

    assert sorted(p.name for p in outside.iterdir()) == ["secret"]


def test_put_file_of_a_missing_source(store: LocalStore, tmp_path: Path) -> None:
    with pytest.raises(StoreError) as info:
        store.put_file("a", tmp_path / "gone")

    assert info.value.one_line() == f"cannot store a: {tmp_path / 'gone'} does not exist"


def test_put_file_of_a_folder_is_a_store_error(store: LocalStore, tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        store.put_file("a", tmp_path)


class _DiskFullWriter(io.BufferedWriter):
    """A file whose writes stop half-way with ENOSPC, as on a full disk."""

    def write(self, data: Any) -> int:
        super().write(bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _fill_the_disk_on_write(monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = pathlib.Path.open

    def open_(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "w" in mode and self.name.endswith(".tmp"):
            return _DiskFullWriter(io.FileIO(self, "wb"))
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", open_)


def _fill_the_disk_on_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("fill", [_fill_the_disk_on_write, _fill_the_disk_on_fsync])
def test_disk_full_is_a_store_error_and_leaves_nothing(
        store: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fill: Any) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"m" * 100_000)

    with monkeypatch.context() as patch:
        fill(patch)
        for write in (lambda: store.put_bytes("runs/r1/files/a.bin", b"x" * 100_000),
                      lambda: store.put_file("runs/r1/files/a.bin", source)):
            with pytest.raises(StoreError) as info:
                write()
            message = info.value.one_line()
            assert message.startswith(f"disk full writing artifact {store.root}/runs/r1/files/"
                                      "a.bin (")
            assert "bytes free" in message
            assert "free space" in message
            assert info.value.exit_code == EXIT_INFRA
            assert _all_files(store.root) == []

    # Once there is space again, the same key can be written.
    stored = store.put_file("runs/r1/files/a.bin", source)
    assert stored.size == 100_000
    assert _all_files(store.root) == ["runs/r1/files/a.bin"]


def test_permission_error_is_a_store_error(store: LocalStore,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def fsync(fd: int) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "fsync", fsync)

    with pytest.raises(StoreError) as info:
        store.put_bytes("a", b"x")

    assert "cannot write artifact" in info.value.one_line()
    assert "permissions" in info.value.one_line()
    assert _all_files(store.root) == []


def test_interrupted_write_leaves_no_temp_file(store: LocalStore,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def fsync(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", fsync)

    with pytest.raises(KeyboardInterrupt):
        store.put_bytes("a", b"x")

    assert _all_files(store.root) == []


def test_two_writers_of_one_key_cannot_both_commit(store: LocalStore, tmp_path: Path) -> None:
    key = "runs/r1/files/model.bin"
    fifo = tmp_path / "slow-source"
    os.mkfifo(fifo)
    outcome: dict[str, Any] = {}

    def slow_writer() -> None:
        try:
            outcome["slow"] = store.put_file(key, fifo)
        except StoreError as exc:
            outcome["slow"] = exc

    thread = threading.Thread(target=slow_writer)
    thread.start()
    with open(fifo, "wb") as pipe:
        # The slow writer has checked the key and opened its temp file; it waits for data.
        deadline = time.monotonic() + 10
        while not any(p.name.endswith(".tmp") for p in store.root.rglob("*")):
            assert time.monotonic() < deadline
            time.sleep(0.005)
        fast = store.put_bytes(key, b"first")
        pipe.write(b"second")
    thread.join(10)

    assert store.read_bytes(key) == b"first"
    assert isinstance(outcome["slow"], StoreError)
    assert fast.sha256 == hashlib.sha256(b"first").hexdigest()


# -- open_store -------------------------------------------------------------------------


def test_open_store_takes_a_folder_or_file_url(tmp_path: Path) -> None:
    assert isinstance(open_store(str(tmp_path / "s")), LocalStore)
    opened = open_store(f"file://{tmp_path / 's'}")
    assert isinstance(opened, LocalStore)
    assert opened.url == str((tmp_path / "s").resolve())


def test_open_store_refuses_unknown_schemes() -> None:
    with pytest.raises(SettingsError) as info:
        open_store("nosuch://bucket/prefix")

    assert "the 'nosuch' scheme is not supported" in info.value.one_line()
