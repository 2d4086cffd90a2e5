"""Build small notebooks, run them on the fast path or in plain kernels, find templates."""

from __future__ import annotations

import importlib.util
import os
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
import pytest

from nbprod import api
from nbprod.api import GivenValue, Project, RunRequest, open_project
from nbprod.config import load_settings
from nbprod.kernels.client import Template, running_templates
from nbprod.kernels.preload import plan_preload
from nbprod.records import RunRecord

# First code cell after the parameters: who the kernel is and who its parent is.
PROBE = ("import os as _os, nbprod as _nbprod\n"
         "_nbprod.record('kernel.pid', _os.getpid())\n"
         "_nbprod.record('kernel.ppid', _os.getppid())")
PLAIN_NOTE = "plain kernel"


def write_notebook(path: Path, *cells: str, parameters: str = "tag: str = 'a'",
                   kernel: str = "python3", probe: bool = True) -> Path:
    """A notebook with a ``parameters`` cell, the probe cell, then ``cells``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    code = [PROBE] if probe else []
    code += [textwrap.dedent(cell).strip("\n") for cell in cells]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in code)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def require(module: str) -> None:
    """Skip unless ``module`` is installed, without importing it here: importing scikit-learn
    sets ``KMP_*`` variables in this process, which would change the template a test expects."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")


def code_sources(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def template_for(path: Path, env: Mapping[str, str] | None = None) -> Template:
    """The template a fast run of this notebook forks from (kernel environment ``env``)."""
    plan = plan_preload(code_sources(path), folder=path.parent)
    return Template.for_modules(plan.modules, env)


def template_pid(template: Template) -> int | None:
    for data in running_templates():
        if data["key"] == template.key:
            return int(data["pid"])
    return None


def ensure_template(path: Path, env: Mapping[str, str] | None = None) -> int:
    """Start (if needed) the template of this notebook; its pid."""
    template = template_for(path, env)
    assert template.ensure(wait=True, idle=120)
    pid = template_pid(template)
    assert pid is not None
    return pid


def run(project: Project, path: Path, *, fast: bool = True, wait: bool = True,
        params: Mapping[str, Any] | None = None, **kwargs: Any) -> RunRecord:
    given = {k: GivenValue(v, source="test") for k, v in (params or {}).items()}
    return api.run_notebook(project, RunRequest(str(path), parameters=given, fast=fast,
                                                wait_for_template=wait, **kwargs))


def count_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The kernel_info and execute requests every kernel client sends from now on, in order."""
    from jupyter_client.asynchronous.client import AsyncKernelClient

    asked: list[str] = []
    kernel_info, execute = AsyncKernelClient.kernel_info, AsyncKernelClient.execute

    def counted(self: AsyncKernelClient) -> str:
        asked.append("kernel_info")
        return str(kernel_info(self))

    def executed(self: AsyncKernelClient, *args: Any, **kwargs: Any) -> str:
        asked.append("execute")
        return str(execute(self, *args, **kwargs))

    monkeypatch.setattr(AsyncKernelClient, "kernel_info", counted)
    monkeypatch.setattr(AsyncKernelClient, "execute", executed)
    return asked


def succeeded(record: RunRecord) -> RunRecord:
    assert record.state == "succeeded", (record.failure, record.note)
    return record


def assert_forked(record: RunRecord, path: Path, env: Mapping[str, str] | None = None) -> None:
    """The run's kernel was forked from this notebook's template (for kernel env ``env``)."""
    assert PLAIN_NOTE not in (record.note or ""), record.note
    pid = template_pid(template_for(path, env))
    assert pid is not None, "no template running for the notebook"
    assert record.values["kernel.ppid"] == pid, (record.values, pid)
    assert record.values["kernel.ppid"] != os.getpid()


def assert_plain(record: RunRecord) -> None:
    """The run's kernel was spawned by this (the runner's) process."""
    assert record.values["kernel.ppid"] == os.getpid(), record.values


def process_gone(pid: int) -> bool:
    """Whether ``pid`` no longer runs (absent, or a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


@contextmanager
def project_with_env(root: Path, **extra: str) -> Iterator[Project]:
    """The project at ``root``, its kernels getting this process's environment plus ``extra``."""
    with open_project(load_settings(root, env={}), {**os.environ, **extra}) as opened:
        yield opened


FD_TARGETS = """
def _fd_targets():
    found = []
    for name in os.listdir('/proc/self/fd'):
        try:
            found.append(os.readlink(f'/proc/self/fd/{name}'))
        except OSError:
            pass
    return sorted(found)
"""
