"""What only the S3 store does: one PUT per object, conditional writes, translated errors."""

from __future__ import annotations

import hashlib
import importlib
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from nbprod.errors import SettingsError, StoreError
from nbprod.store import FsspecStore, LocalStore, open_store
from nbprod.store.fsspec_store import redact

from .conftest import CREDENTIALS, S3, free_port

FAST_FAIL = {"config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2}}


def keys(s3: S3, bucket: str) -> list[str]:
    return sorted(str(k) for k in s3.filesystem().find(bucket))


def test_an_object_is_written_in_one_put_and_nothing_else_is_left(s3: S3, bucket: str,
                                                                   tmp_path: Path) -> None:
    store = FsspecStore(f"s3://{bucket}/p")
    source = tmp_path / "data.bin"
    source.write_bytes(b"x" * 100_000)

    with s3.requests() as seen:
        store.put_bytes("runs/r1/record.json", b"{}")
        store.put_file("runs/r1/files/data.bin", source)

    writes = [(method, path) for method, path in seen if method not in ("GET", "HEAD")]
    assert writes == [("PUT", f"/{bucket}/p/runs/r1/record.json"),
                      ("PUT", f"/{bucket}/p/runs/r1/files/data.bin")]
    assert keys(s3, bucket) == [f"{bucket}/p/runs/r1/files/data.bin",
                                f"{bucket}/p/runs/r1/record.json"]


def test_a_failed_write_leaves_nothing_behind(s3: S3, bucket: str, tmp_path: Path) -> None:
    store = FsspecStore(f"s3://{bucket}/p")
    store.put_bytes("a", b"first")

    with s3.requests() as seen:
        with pytest.raises(StoreError, match="already exists"):
            store.put_bytes("a", b"second")
        with pytest.raises(StoreError, match="does not exist"):
            store.put_file("b", tmp_path / "gone")

    assert [m for m, _ in seen if m not in ("GET", "HEAD")] == []
    assert keys(s3, bucket) == [f"{bucket}/p/a"]
    assert store.read_bytes("a") == b"first"


def test_a_racing_writer_is_refused_by_the_conditional_put(s3: S3, bucket: str,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """Another writer commits between our existence check and our PUT: If-None-Match wins."""
    store = FsspecStore(f"s3://{bucket}/p")
    store.put_bytes("runs/r1/record.json", b"the other writer")
    monkeypatch.setattr(store.fs, "exists", lambda path: False)  # the check saw nothing yet

    with pytest.raises(StoreError, match="already exists"):
        store.put_bytes("runs/r1/record.json", b"ours")

    assert store.read_bytes("runs/r1/record.json") == b"the other writer"


def test_the_sha256_is_kept_as_object_metadata(s3: S3, bucket: str) -> None:
    stored = FsspecStore(f"s3://{bucket}/p").put_bytes("a", b"payload")

    metadata = s3.filesystem().metadata(f"{bucket}/p/a")
    assert metadata.get("sha256") == stored.sha256 == hashlib.sha256(b"payload").hexdigest()


def test_an_object_changed_behind_nbprods_back_fails_verification(s3: S3, bucket: str) -> None:
    store = FsspecStore(f"s3://{bucket}/p")
    stored = store.put_bytes("a", b"payload")
    s3.filesystem().pipe_file(f"{bucket}/p/a", b"tampered")

    with pytest.raises(StoreError, match="corrupt"):
        store.read_bytes("a", stored.sha256)


def test_storage_options_can_name_the_endpoint(s3: S3, bucket: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    store = open_store(f"s3://{bucket}/p", {"endpoint_url": s3.endpoint})

    store.put_bytes("a", b"1")
    assert keys(s3, bucket) == [f"{bucket}/p/a"]


def _assert_one_clean_line(error: StoreError, url: str) -> None:
    line = error.one_line()
    assert "\n" not in line and url in line
    assert CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in line
    assert error.exit_code == 4


def test_an_unreachable_endpoint(s3: S3, monkeypatch: pytest.MonkeyPatch,
                                 tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    store = FsspecStore("s3://some-bucket/prefix", FAST_FAIL)

    for call in (lambda: store.put_bytes("a", b"1"), lambda: store.read_bytes("a"),
                 lambda: store.exists("a"),
                 lambda: store.fetch_folder("a", tmp_path / "unused", {"f": "0" * 64})):
        with pytest.raises(StoreError) as info:
            call()
        _assert_one_clean_line(info.value, "s3://some-bucket/prefix")
        assert f"cannot reach the store s3://some-bucket/prefix (endpoint " \
               f"http://127.0.0.1:{port})" in info.value.one_line()
        assert "AWS_ENDPOINT_URL" in info.value.one_line()


def test_no_credentials(s3: S3, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    FsspecStore(f"s3://{bucket}/prefix").put_bytes("a", b"1")  # with credentials: works
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    store = FsspecStore(f"s3://{bucket}/prefix")  # not the cached filesystem of the first

    with pytest.raises(StoreError) as info:
        store.put_bytes("a", b"1")

    _assert_one_clean_line(info.value, f"s3://{bucket}/prefix")
    assert info.value.one_line().startswith("no credentials to access the store")
    assert "AWS_ACCESS_KEY_ID" in info.value.one_line()


def test_a_missing_bucket(s3: S3) -> None:
    store = FsspecStore("s3://no-such-bucket-here/prefix")

    assert not store.exists("a")
    for call in (lambda: store.put_bytes("a", b"1"), lambda: store.read_bytes("a")):
        with pytest.raises(StoreError) as info:
            call()
        _assert_one_clean_line(info.value, "s3://no-such-bucket-here/prefix")
        assert "does not exist" in info.value.one_line()


def test_fetch_folder_refuses_an_object_name_nbprod_would_not_write(s3: S3, bucket: str,
                                                                    tmp_path: Path) -> None:
    s3.filesystem().pipe_file(f"{bucket}/p/runs/r1/files/bad name.txt", b"x")

    with pytest.raises(StoreError, match="not allowed"):
        FsspecStore(f"s3://{bucket}/p").fetch_folder("runs/r1/files", tmp_path / "out",
                                                     {"bad name.txt": "0" * 64})


def test_local_fetch_folder_is_a_copy_not_the_stores_own_folder(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "artifacts")
    stored = store.put_bytes("runs/r1/files/a.txt", b"a")

    folder = store.fetch_folder("runs/r1/files", tmp_path / "copy", {"a.txt": stored.sha256})
    assert folder == tmp_path / "copy"
    assert not (folder / "a.txt").samefile(store.path("runs/r1/files/a.txt"))


# -- open_store ------------------------------------------------------------------------------


def test_open_store_picks_the_store_by_scheme(tmp_path: Path) -> None:
    pytest.importorskip("s3fs")
    assert isinstance(open_store(str(tmp_path / "a")), LocalStore)
    assert isinstance(open_store(f"file://{tmp_path / 'a'}"), LocalStore)
    s3_store = open_store("s3://bucket/prefix/")  # no request is made to open it
    assert isinstance(s3_store, FsspecStore)
    assert s3_store.location("runs/r1/x") == "s3://bucket/prefix/runs/r1/x"


def test_a_memory_url_is_an_fsspec_store() -> None:
    pytest.importorskip("fsspec")
    store = open_store("memory://nbprod-tests/prefix")

    stored = store.put_bytes("runs/r1/a", b"in memory")
    assert store.read_bytes("runs/r1/a", stored.sha256) == b"in memory"
    assert store.location("runs/r1/a") == "memory://nbprod-tests/prefix/runs/r1/a"


def test_an_unknown_scheme_is_a_settings_error() -> None:
    pytest.importorskip("fsspec")
    with pytest.raises(SettingsError, match="'nosuch' scheme is not supported"):
        open_store("nosuch://bucket/prefix")


def test_a_url_without_a_bucket_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match=r"^store s3:// names no bucket"):
        open_store("s3://")


def _uninstall(monkeypatch: pytest.MonkeyPatch, package: str, protocol: str) -> None:
    """As if ``package`` were not installed (and fsspec had not loaded it yet)."""
    registry = importlib.import_module("fsspec.registry")  # fsspec.registry is a mapping
    for name in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, package, None)
    monkeypatch.delitem(registry._registry, protocol, raising=False)


def test_a_missing_backend_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("fsspec")
    _uninstall(monkeypatch, "s3fs", "s3")

    with pytest.raises(SettingsError) as info:
        open_store("s3://bucket/prefix")

    assert info.value.hint == "pip install 'nbprod[s3]'"
    assert info.value.exit_code == 2


def test_a_backend_fsspec_knows_but_that_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("fsspec")
    _uninstall(monkeypatch, "gcsfs", "gs")

    with pytest.raises(SettingsError) as info:
        open_store("gs://bucket/prefix")

    assert info.value.hint == "pip install gcsfs"


def test_passwords_in_urls_are_never_shown() -> None:
    assert redact("ftp://user:hunter2@host:21/path") == "ftp://user:***@host:21/path"
    assert redact("s3://bucket/prefix") == "s3://bucket/prefix"


# -- plugins (entry-point group nbprod.stores) ----------------------------------------------


def _install_plugin(folder: Path, monkeypatch: pytest.MonkeyPatch, factory: str) -> None:
    """A distribution on sys.path whose entry point registers the 'fake' scheme."""
    info = folder / "nbprod_fake_store-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nbprod-fake-store\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text(f"[nbprod.stores]\nfake = nbprod_fake_store:{factory}\n")
    (folder / "nbprod_fake_store.py").write_text(textwrap.dedent("""
        from pathlib import Path
        from nbprod.store import LocalStore

        def factory(url, storage_options):
            store = LocalStore(Path(url.removeprefix("fake://")))
            store.options = storage_options
            return store

        def not_a_store(url, storage_options):
            return object()
    """))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "nbprod_fake_store", raising=False)


def test_a_plugin_registered_for_a_scheme_opens_it(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _install_plugin(tmp_path / "site", monkeypatch, "factory")

    store: Any = open_store(f"fake://{tmp_path / 'plugin-store'}", {"opt": 1})

    assert isinstance(store, LocalStore) and store.options == {"opt": 1}
    assert store.root == (tmp_path / "plugin-store").resolve()


def test_a_plugin_that_returns_no_store_is_a_settings_error(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    _install_plugin(tmp_path / "site", monkeypatch, "not_a_store")

    with pytest.raises(SettingsError, match="not a store"):
        open_store("fake://x")


def test_options_in_the_url_are_refused_without_showing_them() -> None:
    with pytest.raises(SettingsError) as info:
        open_store("s3://bucket/p?key=AKIA123&secret=hunter2")

    assert "hunter2" not in info.value.one_line() and "AKIA123" not in info.value.one_line()
    assert info.value.one_line().startswith("store s3://bucket/p?...: options in the URL")


def test_a_plugin_that_cannot_be_loaded_is_a_settings_error(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    _install_plugin(tmp_path / "site", monkeypatch, "no_such_factory")

    with pytest.raises(SettingsError, match=r"store plugin 'fake' .* cannot be loaded"):
        open_store("fake://x")
