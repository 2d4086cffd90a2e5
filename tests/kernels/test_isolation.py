"""Runs on the fast path are really forked, and a fork starts from the template, not from
the previous run: nothing one run changes is seen by the next one."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from nbprod.api import Project
from nbprod.kernels.client import running_templates

from .helpers import (
    FD_TARGETS,
    assert_forked,
    assert_plain,
    ensure_template,
    project_with_env,
    require,
    run,
    succeeded,
    template_for,
    template_pid,
    write_notebook,
)

pytestmark = pytest.mark.slow

PHASE = "phase: str = 'check'"


def test_fast_run_is_forked_from_the_notebooks_template(project: Project,
                                                         project_dir: Path) -> None:
    path = write_notebook(project_dir / "nb" / "probe.ipynb", "import json")
    first = succeeded(run(project, path))
    second = succeeded(run(project, path))
    assert_forked(first, path)
    assert_forked(second, path)
    assert first.values["kernel.pid"] != second.values["kernel.pid"]
    info = next(t for t in running_templates() if t["key"] == template_for(path).key)
    assert "json" in info["preload"] and not info["failed"]


def test_globals_and_module_state_do_not_leak_into_the_next_fork(project: Project,
                                                                  project_dir: Path) -> None:
    path = write_notebook(project_dir / "nb" / "globals.ipynb", """
        import json, sys, types
        nbprod = _nbprod
        nbprod.record('seen.global', 'leak' in globals())
        nbprod.record('seen.json', hasattr(json, 'nbprod_leak'))
        nbprod.record('seen.sys_modules', 'fake_mod' in sys.modules)
        nbprod.record('seen.sys_path', '/nbprod-leak' in sys.path)
        if phase == 'dirty':
            leak = 1
            json.nbprod_leak = 1
            sys.modules['fake_mod'] = types.ModuleType('fake_mod')
            sys.path.append('/nbprod-leak')
            nbprod.record('dirtied', 'leak' in globals() and hasattr(json, 'nbprod_leak'))
        """, parameters=PHASE)
    dirty = succeeded(run(project, path, params={"phase": "dirty"}))
    assert dirty.values["dirtied"] is True
    clean = succeeded(run(project, path))
    for record in (dirty, clean):
        assert_forked(record, path)
        assert record.values["seen.global"] is False
        assert record.values["seen.json"] is False
        assert record.values["seen.sys_modules"] is False
        assert record.values["seen.sys_path"] is False


def test_library_configuration_does_not_leak(project: Project, project_dir: Path) -> None:
    require("sklearn")
    path = write_notebook(project_dir / "nb" / "sk.ipynb", """
        import sklearn
        _nbprod.record('assume_finite', sklearn.get_config()['assume_finite'])
        if phase == 'dirty':
            sklearn.set_config(assume_finite=True)
            _nbprod.record('dirtied', sklearn.get_config()['assume_finite'])
        """, parameters=PHASE)
    dirty = succeeded(run(project, path, params={"phase": "dirty"}))
    clean = succeeded(run(project, path))
    assert dirty.values["dirtied"] is True
    for record in (dirty, clean):
        assert_forked(record, path)
        assert record.values["assume_finite"] is False


def test_environment_and_cwd_are_the_callers(project_dir: Path) -> None:
    path = write_notebook(project_dir / "nb" / "env.ipynb", """
        import os
        _nbprod.record('leak', os.environ.get('NBPROD_LEAK'))
        _nbprod.record('caller', os.environ.get('KERNELS_TEST_CALLER'))
        _nbprod.record('cwd', os.getcwd())
        if phase == 'dirty':
            os.environ['NBPROD_LEAK'] = '1'
            os.chdir('/tmp')
        """, parameters=PHASE)
    ensure_template(path)  # started by this process, whose environment lacks the variable
    assert "KERNELS_TEST_CALLER" not in os.environ
    with project_with_env(project_dir, KERNELS_TEST_CALLER="from-caller") as project:
        dirty = succeeded(run(project, path, params={"phase": "dirty"}))
        clean = succeeded(run(project, path))
    for record in (dirty, clean):
        assert_forked(record, path)
        assert record.values["leak"] is None
        assert record.values["caller"] == "from-caller"
        assert record.values["cwd"] == str(path.parent)


def test_open_files_are_not_inherited(project: Project, project_dir: Path,
                                      tmp_path: Path) -> None:
    target = tmp_path / "left-open.txt"
    path = write_notebook(project_dir / "nb" / "fds.ipynb", "import os\n" + FD_TARGETS, """
        _nbprod.record('fds', _fd_targets())
        if phase == 'dirty':
            leaked = open(target, 'w')
            _nbprod.record('dirty_fds', _fd_targets())
        """, parameters=PHASE + f"\ntarget: str = {str(target)!r}")
    template = ensure_template(path)
    dirty = succeeded(run(project, path, params={"phase": "dirty"}))
    clean = succeeded(run(project, path))
    assert str(target) in dirty.values["dirty_fds"]
    assert str(target) not in clean.values["fds"]
    # Nothing the template holds (its socket, its log) is open in a kernel either.
    template_fds = set()
    for name in os.listdir(f"/proc/{template}/fd"):
        with contextlib.suppress(OSError):
            template_fds.add(os.readlink(f"/proc/{template}/fd/{name}"))
    template_fds.discard("/dev/null")
    for record in (dirty, clean):
        assert_forked(record, path)
        assert not template_fds & set(record.values["fds"]), template_fds


def test_random_state_differs_between_forks(project: Project, project_dir: Path) -> None:
    path = write_notebook(project_dir / "nb" / "rand.ipynb", """
        import random
        import numpy
        _nbprod.record('random', random.random())
        _nbprod.record('numpy', float(numpy.random.rand()))
        _nbprod.record('numpy_legacy_int', int(numpy.random.randint(0, 2**31 - 1)))
        _nbprod.record('numpy_rng', float(numpy.random.default_rng().random()))
        """)
    records = [succeeded(run(project, path)) for _ in range(3)]
    info = template_for(path)
    assert template_pid(info) is not None
    for record in records:
        assert_forked(record, path)
    for name in ("random", "numpy", "numpy_legacy_int", "numpy_rng"):
        draws = [r.values[name] for r in records]
        assert len(set(draws)) == len(draws), (name, draws)


DETERMINISTIC = """
    import hashlib
    import numpy
    total = numpy.arange(10**6).sum()
    _nbprod.record('arange', hashlib.sha256(str(total).encode()).hexdigest())
    m = numpy.random.default_rng(0).random((200, 200))
    _nbprod.record('matmul', round(float((m @ m).sum()), 6))
    numpy.random.seed(1)
    _nbprod.record('seeded', [float(x) for x in numpy.random.rand(3)])
    import random
    random.seed(2)
    _nbprod.record('seeded_py', random.random())
    """


def test_deterministic_results_match_a_plain_kernel(project: Project,
                                                    project_dir: Path) -> None:
    path = write_notebook(project_dir / "nb" / "det.ipynb", DETERMINISTIC)
    fast = succeeded(run(project, path))
    plain = succeeded(run(project, path, fast=False))
    assert_forked(fast, path)
    assert_plain(plain)
    for name in ("arange", "matmul", "seeded", "seeded_py"):
        assert fast.values[name] == plain.values[name], name


def test_seeded_random_forest_matches_a_plain_kernel(project: Project,
                                                     project_dir: Path) -> None:
    require("sklearn")
    path = write_notebook(project_dir / "nb" / "forest.ipynb", """
        import hashlib
        from sklearn.datasets import make_classification
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.model_selection import train_test_split
        X, y = make_classification(n_samples=400, n_features=12, random_state=0)
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        model = RandomForestClassifier(n_estimators=30, random_state=0, n_jobs=2)
        model.fit(X_train, y_train)
        _nbprod.record('accuracy', float(model.score(X_test, y_test)))
        proba = model.predict_proba(X_test).round(12)
        _nbprod.record('proba', hashlib.sha256(proba.tobytes()).hexdigest())
        """)
    fast = succeeded(run(project, path))
    plain = succeeded(run(project, path, fast=False))
    assert_forked(fast, path)
    assert_plain(plain)
    assert fast.values["accuracy"] == plain.values["accuracy"]
    assert fast.values["proba"] == plain.values["proba"]


def test_local_module_is_importable_and_never_stale(project: Project,
                                                   project_dir: Path) -> None:
    folder = project_dir / "nb"
    path = write_notebook(folder / "local.ipynb", """
        import mymod
        _nbprod.record('value', mymod.VALUE)
        _nbprod.record('file', mymod.__file__)
        """)
    module = folder / "mymod.py"
    module.write_text("VALUE = 1\n")
    assert "mymod" not in template_for(path).preload
    first = succeeded(run(project, path))
    module.write_text("VALUE = 22  # edited\n")
    later = module.stat().st_mtime_ns + 5 * 10**9  # a different mtime, even within a second
    os.utime(module, ns=(later, later))
    second = succeeded(run(project, path))
    for record in (first, second):
        assert_forked(record, path)
        assert record.values["file"] == str(module)
    assert (first.values["value"], second.values["value"]) == (1, 22)


def test_module_the_template_cannot_import_fails_as_in_a_plain_kernel(
        project: Project, project_dir: Path) -> None:
    path = write_notebook(project_dir / "nb" / "missing.ipynb", """
        try:
            import json.nbk_missing
        except ImportError as exc:
            _nbprod.record('error', type(exc).__name__)
        """)
    assert "json.nbk_missing" in template_for(path).preload
    fast = succeeded(run(project, path))
    plain = succeeded(run(project, path, fast=False))
    assert_forked(fast, path)
    assert_plain(plain)
    assert fast.values["error"] == plain.values["error"] == "ModuleNotFoundError"
    info = next(t for t in running_templates() if t["key"] == template_for(path).key)
    assert "json.nbk_missing" in info["failed"] and "json" not in info["failed"]


@pytest.mark.parametrize("broken", ["os._exit", "shutil.rmtree"])
def test_a_kernel_that_breaks_its_exit_never_becomes_a_second_template(
        project: Project, project_dir: Path, broken: str) -> None:
    # A notebook replaces os._exit (or what the kernel's exit uses) with something that
    # raises. Its kernel must still end, not return into the template's code (where it
    # would serve requests and remove the real template's socket as it ended).
    module, name = broken.split(".")
    path = write_notebook(project_dir / "nb" / f"break_{name}.ipynb", f"""
        import os, shutil
        def broken(*args, **kwargs):
            raise RuntimeError('no exit for you')
        setattr({module}, {name!r}, broken)
        _nbprod.record('kernel_pid', os.getpid())
        """)
    pid = ensure_template(path)
    template = template_for(path)
    for _ in range(2):
        record = succeeded(run(project, path))
        assert_forked(record, path)
        with pytest.raises(ProcessLookupError):
            os.kill(int(record.values["kernel_pid"]), 0)
        assert template.socket_path.exists() and template.info_path.exists()
        assert template_pid(template) == pid  # the same template, still answering
