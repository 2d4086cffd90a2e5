"""When a run does not fork: unsafe imports, fast kernels off, kernels of other interpreters."""

from __future__ import annotations

import json
import os
import sys
import sysconfig
from pathlib import Path

import pytest

import nbprod
from nbprod.api import Project
from nbprod.execute.fast import choose_kernel
from nbprod.kernels.client import running_templates

from .helpers import (
    assert_forked,
    assert_plain,
    code_sources,
    run,
    succeeded,
    write_notebook,
)

pytestmark = pytest.mark.slow

TORCH_NOTE = "plain kernel: the notebook imports torch, which is not safe to fork"


def test_unsafe_import_runs_in_a_plain_kernel_with_a_note(project: Project,
                                                          project_dir: Path) -> None:
    path = write_notebook(project_dir / "nb" / "torch.ipynb", """
        try:
            import torch
        except ImportError:
            torch = None
        _nbprod.record('has_torch', torch is not None)
        """)
    record = succeeded(run(project, path))
    assert_plain(record)
    assert record.note == TORCH_NOTE


def test_fast_off_never_forks_nor_starts_a_template(project: Project, project_dir: Path,
                                                    fresh_runtime_dir: Path) -> None:
    path = write_notebook(project_dir / "nb" / "slow.ipynb", "import json")
    record = succeeded(run(project, path, fast=False))
    assert_plain(record)
    assert record.note is None
    assert running_templates() == []


def kernelspec(root: Path, name: str, python: str, env: dict[str, str]) -> None:
    folder = root / "kernels" / name
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": name, "language": "python", "env": env}))


def venv_import_path() -> str:
    """PYTHONPATH that lets another 3.11 interpreter import ipykernel and nbprod from here."""
    source = Path(nbprod.__file__).resolve().parent.parent
    return os.pathsep.join([sysconfig.get_paths()["purelib"], str(source)])


PREFIX = """
    import sys
    _nbprod.record('prefix', sys.prefix)
    _nbprod.record('executable', sys.executable)
    """


def test_kernel_of_another_interpreter_is_not_forked(project: Project, project_dir: Path,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    other = Path("/usr/bin/python3")
    if not other.exists() or os.path.samefile(other, sys.executable):
        pytest.skip("no other Python interpreter")
    link = tmp_path / "bin" / "python3"
    link.parent.mkdir()
    link.symlink_to(other)
    kernelspec(tmp_path / "jupyter", "otherpy", str(link), {"PYTHONPATH": venv_import_path()})
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    path = write_notebook(project_dir / "nb" / "other.ipynb", PREFIX, kernel="otherpy")
    assert choose_kernel(code_sources(path), "otherpy", enabled=True, wait=True,
                         env=os.environ, cwd=path.parent).preload is None
    record = run(project, path)
    if record.state != "succeeded":  # that interpreter cannot run this venv's ipykernel
        pytest.skip(f"{other} cannot start a kernel here: {record.failure}")
    assert_plain(record)
    assert record.values["executable"] == str(link)


@pytest.mark.parametrize("fast", [
    pytest.param(False, id="plain"),
    # The venv's bin/python links to the base interpreter: the same file, another sys.prefix.
    pytest.param(True, id="fast")])
def test_kernel_of_the_base_interpreter_is_not_forked(project: Project, project_dir: Path,
                                                      tmp_path: Path, fast: bool,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    base = os.path.realpath(sys.executable)
    if sys.prefix == sys.base_prefix or base == sys.executable:
        pytest.skip("not running in a virtualenv whose python is a symlink")
    kernelspec(tmp_path / "jupyter", "basepy", base, {"PYTHONPATH": venv_import_path()})
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    path = write_notebook(project_dir / "nb" / "base.ipynb", PREFIX, kernel="basepy")
    record = succeeded(run(project, path, fast=fast))
    assert record.values["prefix"] == sys.base_prefix
    assert_plain(record)


def test_failed_fork_falls_back_to_a_plain_kernel(project: Project, project_dir: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from nbprod.kernels.client import Template

    from .helpers import ensure_template

    path = write_notebook(project_dir / "nb" / "broken.ipynb", "import json")
    ensure_template(path)

    def broken_fork(self: Template, **kwargs: object) -> int:
        raise OSError("the template went away")

    monkeypatch.setattr(Template, "fork", broken_fork)
    record = succeeded(run(project, path))
    assert_plain(record)
    assert "forked kernel failed to start; ran in a plain kernel" in (record.note or "")


def test_default_kernelspec_is_forked(project: Project, project_dir: Path) -> None:
    """The installed ``python3`` spec says ``python``: jupyter_client runs sys.executable."""
    path = write_notebook(project_dir / "nb" / "native.ipynb", "import json")
    assert choose_kernel(code_sources(path), "python3", enabled=True, wait=True,
                         env=os.environ, cwd=path.parent).preload \
        is not None
    assert_forked(succeeded(run(project, path)), path)
