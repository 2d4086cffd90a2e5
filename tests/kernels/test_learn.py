"""A template learns the submodules its kernels imported on first use: the next kernel has
them. Only installed submodules of packages it holds; nothing that starts a thread."""

from __future__ import annotations

import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbprod.api import Project
from nbprod.kernels import learn

from .helpers import assert_forked, run, succeeded, template_for, write_notebook

# the submodule is named at run time: not an import statement, so not in the preload plan
LAZY = ("import importlib, sys, nbprod\n"
        "nbprod.record('had', 'json.tool' in sys.modules)\n"
        "importlib.import_module('json.' + 'tool')")


@pytest.mark.slow
def test_the_next_kernel_has_what_the_last_one_imported_on_first_use(
        project: Project, project_dir: Path) -> None:
    path = write_notebook(project_dir / "nb" / "lazy.ipynb", LAZY)
    first = succeeded(run(project, path))
    assert_forked(first, path)
    assert first.values["had"] is False
    template = template_for(path)
    assert template.request({"op": "ping"})["learned"] >= 1
    second = succeeded(run(project, path))
    assert_forked(second, path)  # the same template, which imported json.tool meanwhile
    assert second.values["had"] is True


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An imported package ``nbl_pkg`` whose submodules count as installed."""
    root = tmp_path / "nbl_pkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "plain.py").write_text("VALUE = 1\n")
    (root / "broken.py").write_text("raise RuntimeError('broken on import')\n")
    (root / "starts.py").write_text(textwrap.dedent("""\
        import threading
        STOP = threading.Event()
        threading.Thread(target=STOP.wait, daemon=True).start()
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(learn, "install_roots", lambda: (str(tmp_path.resolve()) + "/",))
    __import__("nbl_pkg")
    learn.Known.update()
    yield "nbl_pkg"
    for name in [n for n in sys.modules if n.startswith("nbl_pkg")]:
        starts = sys.modules.pop(name)
        if name.endswith(".starts"):
            starts.STOP.set()
    learn.Known.names = learn.Known.tops = frozenset()
    learn.Known.roots = ()


def test_learning_imports_reported_submodules_once(package: str) -> None:
    refused: set[str] = set()
    learned, safe = learn.learn([f"{package}.plain", f"{package}.broken", "json",
                                 "nosuchtop.sub", "not a name", 3], refused)
    assert (learned, safe) == ([f"{package}.plain"], True)
    assert f"{package}.plain" in sys.modules
    assert refused == {f"{package}.broken"}  # failed: never tried again
    assert learn.learn([f"{package}.broken"], refused) == ([], True)
    assert learn.learn("not a list", refused) == ([], True)


def test_a_submodule_that_starts_a_thread_makes_the_template_unsafe(package: str) -> None:
    refused: set[str] = set()
    learned, safe = learn.learn([f"{package}.starts", f"{package}.plain"], refused)
    assert learned and not safe  # imported, but the template exits rather than fork
    assert refused == {f"{package}.starts", f"{package}.plain"}


def test_a_kernel_reports_only_installed_submodules_of_what_its_template_holds(
        package: str, tmp_path: Path) -> None:
    sys.modules[f"{package}.elsewhere"] = types.SimpleNamespace(  # type: ignore[assignment]
        __file__="/somewhere/else.py")
    __import__(f"{package}.plain")
    found = learn.first_use_imports()
    assert found == [f"{package}.plain"]


def test_the_refused_names_of_a_template_outlive_it(tmp_path: Path) -> None:
    socket_path = tmp_path / "k-abc.sock"
    assert learn.read_refused(socket_path) == set()
    learn.write_refused(socket_path, {"a.b", "c.d"})
    assert learn.read_refused(socket_path) == {"a.b", "c.d"}
    learn.refused_path(socket_path).write_text("{not json")
    assert learn.read_refused(socket_path) == set()


def test_reporting_without_a_template_does_nothing(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.setattr(learn.Known, "socket", str(tmp_path / "gone.sock"))
    monkeypatch.setattr(learn, "first_use_imports", lambda: ["json.tool"])
    learn.report()  # no template listening: returns at once, raises nothing
    monkeypatch.setattr(learn.Known, "socket", None)
    calls: list[Any] = []
    monkeypatch.setattr(learn, "first_use_imports", lambda: calls.append(1) or [])
    learn.report()  # not a template's kernel: nothing looked at
    assert calls == []
