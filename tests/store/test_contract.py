"""The store contract, on both stores: a local folder and S3 (a real moto server)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from nbprod.errors import IntegrityError, StoreError
from nbprod.store import FsspecStore, LocalStore, Store


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_put_bytes_round_trip(store: Store) -> None:
    stored = store.put_bytes("runs/r1/notebook.ipynb", b"{}\n")

    assert (stored.key, stored.sha256, stored.size) == ("runs/r1/notebook.ipynb", sha(b"{}\n"), 3)
    assert store.exists("runs/r1/notebook.ipynb")
    assert store.read_bytes("runs/r1/notebook.ipynb", stored.sha256) == b"{}\n"


def test_put_file_round_trip(store: Store, tmp_path: Path) -> None:
    data = bytes(range(256)) * 4099  # not a multiple of any chunk size
    source = tmp_path / "model.bin"
    source.write_bytes(data)

    stored = store.put_file("runs/r1/files/model.bin", source)

    assert (stored.sha256, stored.size) == (sha(data), len(data))
    assert store.read_bytes("runs/r1/files/model.bin", sha(data)) == data


def test_empty_object(store: Store) -> None:
    stored = store.put_bytes("empty", b"")

    assert (stored.sha256, stored.size) == (sha(b""), 0)
    assert store.read_bytes("empty", sha(b"")) == b""


def test_an_existing_key_is_never_overwritten(store: Store, tmp_path: Path) -> None:
    store.put_bytes("runs/r1/record.json", b"first")
    source = tmp_path / "second"
    source.write_bytes(b"second")

    for write in (lambda: store.put_bytes("runs/r1/record.json", b"second"),
                  lambda: store.put_file("runs/r1/record.json", source)):
        with pytest.raises(StoreError, match="already exists"):
            write()

    assert store.read_bytes("runs/r1/record.json") == b"first"


def test_a_wrong_hash_is_an_integrity_error(store: Store) -> None:
    store.put_bytes("a", b"payload")

    with pytest.raises(IntegrityError) as info:
        store.read_bytes("a", sha(b"something else"))

    assert info.value.exit_code == 4
    assert info.value.actual == sha(b"payload")


def test_a_missing_key(store: Store) -> None:
    assert not store.exists("runs/nothing/here")
    with pytest.raises(StoreError, match="missing") as info:
        store.read_bytes("runs/nothing/here")

    assert not isinstance(info.value, IntegrityError)


def test_put_file_of_a_missing_source(store: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        store.put_file("a", tmp_path / "gone")
    assert not store.exists("a")


@pytest.mark.parametrize("key", ["", "../escape", "runs/../../escape", "/etc/passwd",
                                 "runs//double", "runs/./here", "runs/trailing/", "a\\b",
                                 "spa ce", "x" * 600])
def test_unsafe_keys_are_refused(store: Store, key: str) -> None:
    for call in (lambda: store.put_bytes(key, b"x"), lambda: store.read_bytes(key),
                 lambda: store.exists(key), lambda: store.location(key)):
        with pytest.raises(StoreError):
            call()


def test_location(store: Store) -> None:
    store.put_bytes("runs/r1/report.html", b"<html/>")
    where = store.location("runs/r1/report.html")

    if isinstance(store, LocalStore):
        assert Path(where).is_file() and Path(where).read_bytes() == b"<html/>"
    else:
        assert isinstance(store, FsspecStore)
        assert where == f"{store.url}/runs/r1/report.html"
        assert where.startswith("s3://")


def test_fetch_folder_copies_the_recorded_files_verified_and_read_only(
        store: LocalStore | FsspecStore, tmp_path: Path) -> None:
    a = store.put_bytes("runs/r1/files/a.csv", b"a,b\n1,2\n")
    model = store.put_bytes("runs/r1/files/sub/model.bin", b"\x00\x01")
    store.put_bytes("runs/r1/files/unrecorded.txt", b"not in the record: not fetched")
    store.put_bytes("runs/r1/record.json", b"{}")  # beside the prefix: not fetched

    folder = store.fetch_folder("runs/r1/files", tmp_path / "fetched",
                                {"a.csv": a.sha256, "sub/model.bin": model.sha256})

    files = {p.relative_to(folder).as_posix(): p.read_bytes()
             for p in folder.rglob("*") if p.is_file()}
    assert files == {"a.csv": b"a,b\n1,2\n", "sub/model.bin": b"\x00\x01"}
    assert {(p.stat().st_mode & 0o777) for p in folder.rglob("*") if p.is_file()} == {0o444}
    (folder / "a.csv").chmod(0o644)
    (folder / "a.csv").write_bytes(b"changed by a kernel")  # only the copy changes
    assert store.read_bytes("runs/r1/files/a.csv", a.sha256) == b"a,b\n1,2\n"


def test_fetch_folder_of_nothing_recorded(store: LocalStore | FsspecStore,
                                          tmp_path: Path) -> None:
    folder = store.fetch_folder("runs/none/files", tmp_path / "fetched", {})

    assert not any(folder.rglob("*"))


def test_fetch_folder_verifies_every_hash(store: LocalStore | FsspecStore,
                                          tmp_path: Path) -> None:
    stored = store.put_bytes("runs/r1/files/model.bin", b"the model")
    wrong = hashlib.sha256(b"another model").hexdigest()

    with pytest.raises(IntegrityError) as caught:
        store.fetch_folder("runs/r1/files", tmp_path / "fetched", {"model.bin": wrong})
    assert caught.value.key == "runs/r1/files/model.bin"
    assert wrong in caught.value.one_line() and stored.sha256 in caught.value.one_line()
    assert caught.value.exit_code == 4
    assert not (tmp_path / "fetched" / "model.bin").exists()
    with pytest.raises(StoreError, match="missing"):
        store.fetch_folder("runs/r1/files", tmp_path / "again", {"gone.bin": wrong})
