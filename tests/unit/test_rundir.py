"""The runtime folder holding nbprod's sockets is private, or not used (nbprod.rundir)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from nbprod.rundir import UnsafeRuntimeDir, check_private, runtime_dir, same_user, temp_dir


def test_created_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o777)  # would leave the owner no bits at all
    try:
        folder = runtime_dir({"XDG_RUNTIME_DIR": str(tmp_path)})
    finally:
        os.umask(old)
    assert folder == tmp_path / f"nbprod-{os.getuid()}"
    assert os.lstat(folder).st_mode & 0o777 == 0o700
    assert runtime_dir({"XDG_RUNTIME_DIR": str(tmp_path)}) == folder  # found again, accepted


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "attacker"
    elsewhere.mkdir(mode=0o700)
    (tmp_path / f"nbprod-{os.getuid()}").symlink_to(elsewhere)
    with pytest.raises(UnsafeRuntimeDir, match="symbolic link"):
        runtime_dir({"XDG_RUNTIME_DIR": str(tmp_path)})


def test_an_open_mode_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / f"nbprod-{os.getuid()}"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(UnsafeRuntimeDir, match="mode 0777, not 0700") as caught:
        runtime_dir({"XDG_RUNTIME_DIR": str(tmp_path)})
    assert f"chmod 700 {folder}" in caught.value.one_line()


def test_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / f"nbprod-{os.getuid()}").write_text("")
    with pytest.raises(UnsafeRuntimeDir, match="not a folder"):
        runtime_dir({"XDG_RUNTIME_DIR": str(tmp_path)})


def test_another_users_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / f"nbprod-{os.getuid()}"
    folder.mkdir(mode=0o700)
    other = 65534 if os.getuid() == 0 else 0
    if os.getuid() == 0:
        os.chown(folder, other, other)
    else:  # not root: a folder root made for us cannot be made here; use one root owns
        folder = Path("/root") if Path("/root").exists() else Path("/")
    with pytest.raises(UnsafeRuntimeDir, match=f"owned by uid {other}, not by you"):
        check_private(folder)


def test_same_user_sees_the_peer_of_a_socket() -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        assert same_user(left) and same_user(right)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unconnected:
        assert not same_user(unconnected)


def test_without_xdg_runtime_dir_the_folder_is_in_tempfiles_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """temp_dir answers as tempfile.gettempdir (which the launcher does not import)."""
    import tempfile

    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", None)  # its answer is cached: ask again
    assert temp_dir(os.environ) == tempfile.gettempdir()

    monkeypatch.setenv("TMP", str(tmp_path / "missing"))  # not a folder: passed over
    monkeypatch.setenv("TEMP", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert temp_dir(os.environ) == tempfile.gettempdir() == str(tmp_path)
    assert runtime_dir({"TEMP": str(tmp_path)}) == tmp_path / f"nbprod-{os.getuid()}"
