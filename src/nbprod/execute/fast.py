"""Decide whether a run's kernel is forked from a warm template, and with what preloaded.

Forking needs the kernel to be this interpreter's own ipykernel (the template is this
interpreter) and the notebook to import nothing unsafe to fork. The first run of a new
template starts it in the background and runs in a plain kernel; later runs fork.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class KernelChoice:
    preload: tuple[str, ...] | None  # None: spawn a plain kernel
    note: str | None = None


def choose_kernel(sources: Iterable[str], kernel_name: str, *, enabled: bool,
                  wait: bool, idle: float = 900.0) -> KernelChoice:
    """Fork if possible; ``wait`` for a template that is still starting (sweeps do)."""
    if not enabled or not sys.platform.startswith("linux"):
        return KernelChoice(None)
    if not _native(kernel_name):
        return KernelChoice(None)
    from ..kernels.client import Template
    from ..kernels.preload import plan_preload

    plan = plan_preload(sources)
    if not plan.forkable:
        return KernelChoice(None, f"plain kernel: the notebook imports {', '.join(plan.unsafe)}"
                                  ", which is not safe to fork")
    template = Template.for_modules(plan.modules)
    try:
        ready = template.ensure(wait=wait, idle=idle)
    except Exception as exc:
        return KernelChoice(None, f"plain kernel: kernel template unavailable ({exc})")
    return KernelChoice(plan.modules if ready else None)


def _native(kernel_name: str) -> bool:
    """Whether the kernel is this interpreter's ipykernel (what a template can fork)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except (NoSuchKernel, OSError, ValueError):
        return False
    argv = list(spec.argv or [])
    if spec.language != "python" or len(argv) < 3 or not any(
            "ipykernel" in a for a in argv[1:3]):
        return False
    executable = argv[0]
    if os.sep not in executable:
        return executable in ("python", "python3")
    try:
        return os.path.samefile(executable, sys.executable)
    except OSError:
        return False
