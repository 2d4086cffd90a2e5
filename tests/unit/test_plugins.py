"""nbprod.plugins: entry points read once per install state, re-read when an install changes."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from nbprod import plugins

GROUP = "nbprod.test_plugins_group"


def _install(site: Path, name: str, value: str) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{name} = {value}\n")


def _age(site: Path, seconds: float) -> None:
    """Set the folder's time ``seconds`` in the past (an install that happened then)."""
    then = time.time_ns() - int(seconds * 1e9)
    os.utime(site, ns=(then, then))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(folder)])
    monkeypatch.setattr(plugins, "_SEEN", {})
    return folder


def _names() -> list[str]:
    return sorted(e.name for e in plugins.group(GROUP))


def test_an_install_and_an_uninstall_are_seen(site: Path) -> None:
    assert _names() == []
    _install(site, "first_plugin", "json:dumps")
    _age(site, 60)
    assert _names() == ["first_plugin"]
    _install(site, "second_plugin", "json:loads")
    _age(site, 30)  # the install changed the folder's time
    assert _names() == ["first_plugin", "second_plugin"]
    for child in (site / "first_plugin-1.0.dist-info").iterdir():
        child.unlink()
    (site / "first_plugin-1.0.dist-info").rmdir()
    _age(site, 10)
    assert _names() == ["second_plugin"]
    assert plugins.group(GROUP)[0].load() is __import__("json").loads


def test_the_list_is_kept_while_nothing_changes(site: Path, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    _install(site, "kept_plugin", "json:dumps")
    _age(site, 60)
    assert _names() == ["kept_plugin"]
    read: list[str] = []

    def counted(group: str) -> tuple[()]:
        read.append(group)
        return ()

    monkeypatch.setattr(plugins, "entry_points", counted)
    assert _names() == ["kept_plugin"] and read == []


def test_a_folder_changed_just_now_is_read_again(site: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _install(site, "fresh_plugin", "json:dumps")  # its time is now: not trusted yet
    assert _names() == ["fresh_plugin"]
    read: list[str] = []
    from importlib.metadata import entry_points as real

    def counted(group: str) -> object:
        read.append(group)
        return real(group=group)

    monkeypatch.setattr(plugins, "entry_points", counted)
    assert _names() == ["fresh_plugin"] and read == [GROUP]
