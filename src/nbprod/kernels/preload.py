"""What a notebook's template preloads, and whether its kernel may be forked at all.

Modules are found by parsing the notebook's code cells (IPython syntax blanked first). Only
modules installed in the environment (stdlib and site-packages) are preloaded: a project's own
modules change while you work and would be frozen stale in the template. Libraries that are not
fork-safe (CUDA, PyTorch, TensorFlow, JAX) make the notebook run in a plain kernel instead.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass

# Importing these in a parent process and using them in a forked child is unsafe (CUDA
# contexts, thread pools and device handles do not survive fork).
UNSAFE = frozenset({"torch", "tensorflow", "jax", "jaxlib", "cupy", "pycuda", "numba.cuda",
                    "mxnet", "paddle", "keras", "ray", "pyspark"})
# Always in the template: what every kernel imports before running a cell.
# ipykernel.debugger imports debugpy (~0.1 s), which every kernel initialisation loads.
BASE = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell",
        "ipykernel.debugger", "IPython", "IPython.core.interactiveshell", "zmq", "tornado",
        "jupyter_client.session", "sqlite3", "pdb")
_MAGIC = re.compile(r"^\s*[%!]")


@dataclass(frozen=True)
class PreloadPlan:
    modules: tuple[str, ...]
    unsafe: tuple[str, ...]

    @property
    def forkable(self) -> bool:
        return not self.unsafe


def imported_modules(sources: Iterable[str]) -> set[str]:
    """Top-level module names imported anywhere in the code cells."""
    names: set[str] = set()
    for source in sources:
        text = "\n".join("" if _MAGIC.match(line) else line for line in source.splitlines())
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
    return names


def plan_preload(sources: Iterable[str]) -> PreloadPlan:
    """The installed modules to preload, and the unsafe ones that forbid forking."""
    wanted = imported_modules(sources)
    unsafe = sorted(n for n in wanted if n in UNSAFE or n.split(".")[0] in UNSAFE)
    installed = sorted(n for n in wanted if n not in unsafe and _installed(n))
    return PreloadPlan(modules=tuple(installed), unsafe=tuple(unsafe))


def _installed(name: str) -> bool:
    """Whether the top-level package is in the stdlib or site-packages.

    Only the top-level name is looked up: ``find_spec("sklearn.ensemble")`` would import
    scikit-learn here. A submodule that does not exist is skipped by the template.
    """
    top = name.split(".")[0]
    if top in sys.stdlib_module_names:
        return True
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError, AttributeError):
        return False
    if spec is None:
        return False
    origin = spec.origin or next(iter(spec.submodule_search_locations or []), "")
    roots = {sysconfig.get_paths()[key] for key in ("purelib", "platlib", "stdlib")}
    return any(str(origin).startswith(root) for root in roots)


def module_files(names: Iterable[str]) -> list[str]:
    """Files whose change means a template must restart (each module's origin)."""
    files = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name.split(".")[0])
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.origin:
            files.append(spec.origin)
    return sorted(files)
