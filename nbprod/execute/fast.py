"""Decide whether a run's kernel is forked from a warm template, and with what preloaded.

Forking needs the kernel to be this interpreter's own ipykernel (the template is this
interpreter) and the notebook to import nothing unsafe to fork. The first run of a new
template starts it in the background and runs in a plain kernel; later runs fork.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..kernels.cap import Limits


@dataclass(frozen=True)
class KernelChoice:
    preload: tuple[str, ...] | None  # None: spawn a plain kernel
    note: str | None = None
    # The template chosen: its key and the digest of the startup environment it was chosen
    # for (the provisioner reuses the key when the kernel's environment has that digest).
    template: tuple[str, str] | None = None


def choose_kernel(sources: Iterable[str], kernel_name: str, *, enabled: bool,
                  wait: bool, env: Mapping[str, str], cwd: Path,
                  idle: float = 900.0, limits: Limits | None = None) -> KernelChoice:
    """Fork if possible; ``wait`` for a template that is still starting (sweeps do).

    ``env`` and ``cwd`` are the kernel's: the template is the one started with the
    environment's startup variables, and modules found in ``cwd`` are not preloaded. A
    template started here holds the live templates to ``limits`` (see kernels/cap.py).
    """
    if not enabled or not sys.platform.startswith("linux"):
        return KernelChoice(None)
    spec = _native_spec(kernel_name)
    if spec is None:
        return KernelChoice(None)
    from ..kernels.client import Template
    from ..kernels.preload import plan_preload

    plan = plan_preload(sources, folder=cwd)
    if not plan.forkable:
        return KernelChoice(None, f"plain kernel: the notebook imports {', '.join(plan.unsafe)}"
                                  ", which is not safe to fork")
    # The kernelspec's env is added to the kernel's by jupyter_client, as it will be here.
    template = Template.for_modules(plan.modules, {**env, **(spec.env or {})})
    try:
        ready = template.ensure(wait=wait, idle=idle, limits=limits)
    except Exception as exc:
        return KernelChoice(None, f"plain kernel: kernel template unavailable ({exc})")
    if not ready:
        return KernelChoice(None)
    from ..kernels.client import env_digest

    return KernelChoice(plan.modules, template=(template.key, env_digest(dict(template.env))))


def _native_spec(kernel_name: str) -> Any:
    """The kernelspec if it runs this interpreter's ipykernel (what a template can fork)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except (NoSuchKernel, OSError, ValueError):
        return None
    argv = list(spec.argv or [])
    if spec.language != "python" or len(argv) < 3 or not any(
            "ipykernel" in a for a in argv[1:3]):
        return None
    return spec if same_interpreter(argv[0]) else None


def same_interpreter(executable: str) -> bool:
    """Whether running ``executable`` gives this interpreter, with this ``sys.prefix``.

    jupyter_client runs ``python``/``python3``/``python3.X`` as this interpreter. A path is
    the same interpreter only if it is the same file reached from the same folder: a
    virtualenv's ``bin/python`` links to its base interpreter, which runs with the base
    ``sys.prefix`` and packages when started by its own path.
    """
    major, minor = sys.version_info[:2]
    if os.sep not in executable:
        return executable in ("python", f"python{major}", f"python{major}.{minor}")
    here = os.path.dirname(os.path.abspath(sys.executable))
    try:
        return os.path.dirname(os.path.abspath(executable)) == here and \
            os.path.samefile(executable, sys.executable)
    except OSError:
        return False
