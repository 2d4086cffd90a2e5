"""A forked kernel behaves like a plain one for what a process gets from its caller and what
it does when it ends.

Each check runs the same notebook in a plain kernel (``fast=False``, what nbprod promises to
match) and on the fast path. A template is first started from this test process's
environment and umask; the run's caller then differs from it, as when a template started by
one shell serves ``nbprod run`` from another. Variables read once at start-up (``TZ``,
``PYTHONPATH``, the hash seed, the locale) get the run a template started with them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from nbprod.api import Project
from nbprod.records import RunRecord

from .helpers import (
    assert_forked,
    assert_plain,
    ensure_template,
    project_with_env,
    require,
    run,
    succeeded,
    write_notebook,
)

pytestmark = pytest.mark.slow


# ``fast`` False is the reference (a plain kernel), True the fast path that must match it.
BOTH = [pytest.param(False, id="plain"), pytest.param(True, id="fast")]


def check_kernel(record: RunRecord, path: Path, fast: bool,
                 env: Mapping[str, str] | None = None) -> None:
    if fast:
        assert_forked(record, path, env)
    else:
        assert_plain(record)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, fresh_runtime_dir: Path) -> Iterator[None]:
    """A new template, started from an environment without the variables the runs set."""
    for name in ("TZ", "PYTHONPATH", "PYTHONHASHSEED"):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.mark.parametrize("fast", BOTH)
def test_umask_is_the_callers(project: Project, project_dir: Path, fast: bool,
                              clean_env: None) -> None:
    path = write_notebook(project_dir / "nb" / "umask.ipynb", """
        import os
        mask = os.umask(0)
        os.umask(mask)
        _nbprod.record('umask', oct(mask))
        """)
    old = os.umask(0o022)
    try:
        ensure_template(path)
        os.umask(0o077)
        record = succeeded(run(project, path, fast=fast))
    finally:
        os.umask(old)
    check_kernel(record, path, fast)
    assert record.values["umask"] == oct(0o077)


@pytest.mark.parametrize("fast", BOTH)
def test_timezone_is_the_callers(project_dir: Path, fast: bool, clean_env: None) -> None:
    if not Path("/usr/share/zoneinfo/Asia/Tokyo").exists():
        pytest.skip("no tz database")
    path = write_notebook(project_dir / "nb" / "tz.ipynb", """
        import time
        _nbprod.record('tzname', list(time.tzname))
        _nbprod.record('offset', time.strftime('%z', time.localtime(0)))
        """)
    ensure_template(path)
    with project_with_env(project_dir, TZ="Asia/Tokyo") as project:
        record = succeeded(run(project, path, fast=fast))
        env = dict(project.kernel_env)
    check_kernel(record, path, fast, env)
    assert record.values["offset"] == "+0900"
    assert record.values["tzname"] == ["JST", "JST"]


@pytest.mark.parametrize("fast", BOTH)
def test_pythonpath_is_the_callers(project_dir: Path, tmp_path: Path, fast: bool,
                                   clean_env: None) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "nbk_pythonpath_lib.py").write_text("VALUE = 7\n")
    path = write_notebook(project_dir / "nb" / "pp.ipynb", """
        import sys
        try:
            import nbk_pythonpath_lib
            _nbprod.record('value', nbk_pythonpath_lib.VALUE)
        except ImportError as exc:
            _nbprod.record('value', str(exc))
        """)
    ensure_template(path)
    with project_with_env(project_dir, PYTHONPATH=str(lib)) as project:
        record = succeeded(run(project, path, fast=fast))
        env = dict(project.kernel_env)
    check_kernel(record, path, fast, env)
    assert record.values["value"] == 7


@pytest.mark.parametrize("fast", BOTH)
def test_hash_seed_is_the_callers(project_dir: Path, fast: bool, clean_env: None) -> None:
    expected = int(subprocess.run(
        [sys.executable, "-c", "print(hash('nbprod'))"], capture_output=True, text=True,
        check=True, env={**os.environ, "PYTHONHASHSEED": "0"}).stdout)
    path = write_notebook(project_dir / "nb" / "hash.ipynb", """
        _nbprod.record('hash', hash('nbprod'))
        """)
    ensure_template(path)
    with project_with_env(project_dir, PYTHONHASHSEED="0") as project:
        record = succeeded(run(project, path, fast=fast))
        env = dict(project.kernel_env)
    check_kernel(record, path, fast, env)
    assert record.values["hash"] == expected


@pytest.mark.parametrize("fast", BOTH)
def test_local_file_does_not_shadow_the_standard_library(project: Project, project_dir: Path,
                                                         fast: bool) -> None:
    folder = project_dir / "nb"
    path = write_notebook(folder / "shadow_std.ipynb", """
        import importlib, sys
        _nbprod.record('preimported', 'colorsys' in sys.modules)
        module = importlib.import_module('colorsys')
        _nbprod.record('local', hasattr(module, 'LOCAL'))
        """)
    (folder / "colorsys.py").write_text("LOCAL = True\n")
    record = succeeded(run(project, path, fast=fast))
    check_kernel(record, path, fast)
    assert record.values["preimported"] is False
    assert record.values["local"] is False  # as `python -m ipykernel_launcher` resolves it


@pytest.mark.parametrize("fast", BOTH)
def test_local_module_wins_over_an_installed_one(project: Project, project_dir: Path,
                                                 fast: bool) -> None:
    require("xmltodict")
    folder = project_dir / "nb"
    path = write_notebook(folder / "shadow_site.ipynb", """
        import xmltodict
        _nbprod.record('local', getattr(xmltodict, 'LOCAL', False))
        """)
    (folder / "xmltodict.py").write_text("LOCAL = True\n")
    record = succeeded(run(project, path, fast=fast))
    check_kernel(record, path, fast)
    assert record.values["local"] is True


@pytest.mark.parametrize("fast", BOTH)
def test_unclosed_output_file_is_flushed_at_shutdown(project: Project, project_dir: Path,
                                                     fast: bool) -> None:
    path = write_notebook(project_dir / "nb" / "unclosed.ipynb", """
        handle = open(_nbprod.output_path('unclosed.txt'), 'w')
        handle.write('hello')
        """)
    record = succeeded(run(project, path, fast=fast))
    check_kernel(record, path, fast)
    artifact = record.artifact("files/unclosed.txt")
    assert artifact is not None
    assert Path(artifact.location).read_text() == "hello"


@pytest.mark.parametrize("fast", BOTH)
def test_atexit_handlers_run_at_shutdown(project: Project, project_dir: Path, tmp_path: Path,
                                         fast: bool) -> None:
    marker = tmp_path / "atexit-ran"
    path = write_notebook(project_dir / "nb" / "atexit.ipynb", """
        import atexit
        atexit.register(lambda: open(marker, 'w').write('ran'))
        """, parameters=f"marker: str = {str(marker)!r}")
    record = succeeded(run(project, path, fast=fast))
    check_kernel(record, path, fast)
    assert marker.is_file()


@pytest.mark.parametrize("fast", BOTH)
def test_a_file_written_at_exit_is_stored_and_the_kernel_is_gone(
        project: Project, project_dir: Path, fast: bool) -> None:
    # The runner stores the notebook and report while the kernel exits; the files the
    # kernel writes on its way out are read only once it has ended, and no kernel is left.
    path = write_notebook(project_dir / "nb" / "slow_exit.ipynb", """
        import atexit, os, time
        def write_late():
            time.sleep(0.5)
            open(_nbprod.output_path('late.txt'), 'w').write('written at exit')
        atexit.register(write_late)
        _nbprod.record('kernel_pid', os.getpid())
        """)
    record = succeeded(run(project, path, fast=fast))
    check_kernel(record, path, fast)
    artifact = record.artifact("files/late.txt")
    assert artifact is not None, [a.name for a in record.artifacts]
    assert Path(artifact.location).read_text() == "written at exit"
    with pytest.raises(ProcessLookupError):
        os.kill(int(record.values["kernel_pid"]), 0)


@pytest.mark.parametrize("fast", BOTH)
def test_figures_are_shown_inline(project: Project, project_dir: Path, fast: bool) -> None:
    require("matplotlib")
    if "MPLBACKEND" in os.environ:
        pytest.skip("MPLBACKEND is set: no kernel chooses the inline backend")
    path = write_notebook(project_dir / "nb" / "plot.ipynb", """
        import matplotlib
        import matplotlib.pyplot as plt
        _nbprod.record('backend', matplotlib.get_backend())
        plt.plot([1, 3, 2])
        plt.show()
        """)
    record = succeeded(run(project, path, fast=fast))
    check_kernel(record, path, fast)
    artifact = record.artifact("notebook.ipynb")
    assert artifact is not None
    executed = json.loads(Path(artifact.location).read_text())
    images = [o for cell in executed["cells"] for o in cell.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert record.values["backend"] == "module://matplotlib_inline.backend_inline"
    assert len(images) == 1


@pytest.mark.parametrize("fast", BOTH)
def test_c_locale_is_the_callers(project_dir: Path, fast: bool, clean_env: None,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_CTYPE", raising=False)
    path = write_notebook(project_dir / "nb" / "locale.ipynb", """
        import locale, sys
        _nbprod.record('utf8_mode', sys.flags.utf8_mode)
        _nbprod.record('encoding', locale.getpreferredencoding().lower())
        """)
    ensure_template(path)
    with project_with_env(project_dir, LC_ALL="C", LANG="C") as project:
        record = succeeded(run(project, path, fast=fast))
        env = dict(project.kernel_env)
    check_kernel(record, path, fast, env)
    assert record.values["encoding"] == "utf-8"
    assert record.values["utf8_mode"] == 1
