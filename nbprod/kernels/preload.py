"""What a notebook's template preloads, and whether its kernel may be forked at all.

Modules are found by parsing the notebook's code cells (IPython syntax blanked first). Only
modules installed in the environment (stdlib and site-packages) are preloaded: a project's own
modules change while you work and would be frozen stale in the template, and a module in the
notebook's folder wins over an installed one of the same name in a kernel (the folder comes
before site-packages on ``sys.path``), so such a name is not preloaded. Libraries that are not
fork-safe (CUDA, PyTorch, TensorFlow, JAX) make the notebook run in a plain kernel instead.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
import re
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Importing these in a parent process and using them in a forked child is unsafe (CUDA
# contexts, thread pools and device handles do not survive fork).
UNSAFE = frozenset({"torch", "tensorflow", "jax", "jaxlib", "cupy", "pycuda", "numba.cuda",
                    "mxnet", "paddle", "keras", "ray", "pyspark"})
# Always in the template: what every kernel imports before running a cell.
# ipykernel.debugger imports debugpy (~0.1 s), which every kernel initialisation loads; the
# IPython and tornado modules after "pdb" are what IPKernelApp.initialize still imported in a
# fork without them (~10 ms a kernel).
BASE = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell",
        "ipykernel.debugger", "IPython", "IPython.core.interactiveshell", "zmq", "tornado",
        "jupyter_client.session", "sqlite3", "pdb", "IPython.core.completerlib",
        "IPython.core.debugger", "IPython.core.oinspect", "IPython.extensions.storemagic",
        "IPython.utils.wildcard", "tornado.platform.asyncio")
_MAGIC = re.compile(r"^\s*[%!]")
# First-use work of installed libraries that every kernel using them would repeat, done once
# by the template after its imports (its kernels inherit the result): (module, function).
# narwhals, which scikit-learn's input validation calls on each DataFrame, reads the entry
# points of every installed distribution on first use (functools.cache): 5-12 ms of the
# first cell of each kernel that splits or fits a DataFrame. A template's key follows the
# installed distributions (lineage.environment_key): an installed plugin gets a new one.
FIRST_USE = (("narwhals.plugins", "_discover_entrypoints"),)


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
        if "import" in source:  # no import statement: not worth parsing (most cells)
            names.update((_remembered if len(source) <= _LONGEST else _imports_of)(source))
    return names


def _imports_of(source: str) -> frozenset[str]:
    """The modules one cell imports."""
    text = "\n".join("" if _MAGIC.match(line) else line for line in source.splitlines())
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return frozenset()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return frozenset(names)


# A cell's imports are a function of its text: a process that runs the same notebook again
# (a sweep's worker, the server) parses each cell once. Bounded in entries and their size.
_LONGEST = 64 * 1024
_remembered = functools.lru_cache(maxsize=512)(_imports_of)


def warm_first_use() -> list[str]:
    """Call the :data:`FIRST_USE` functions of the modules this process has loaded (what
    fails is left for the kernel to do); the names of those that ran."""
    done = []
    for module, function in FIRST_USE:
        call = getattr(sys.modules.get(module), function, None)
        if callable(call):
            try:
                call()
            except Exception:
                continue
            done.append(f"{module}.{function}")
    return done


def plan_preload(sources: Iterable[str], folder: Path | None = None) -> PreloadPlan:
    """The installed modules to preload, and the unsafe ones that forbid forking.

    ``folder`` is the kernel's working directory: a module found there shadows an installed
    one in the kernel, so it is left for the kernel to import.
    """
    wanted = imported_modules(sources)
    unsafe = sorted(n for n in wanted if n in UNSAFE or n.split(".")[0] in UNSAFE)
    local = _local_names(folder) if folder is not None else set()
    roots = install_roots()
    installed = {n for n in wanted if n not in unsafe and _installed(n, roots)
                 and (n.split(".")[0] not in local or n.split(".")[0] in sys.stdlib_module_names)}
    installed.update(*(_ON_FIRST_USE.get(n, ()) for n in list(installed)))
    return PreloadPlan(modules=tuple(sorted(installed)), unsafe=tuple(unsafe))


# What a package imports on first use that a notebook importing it will use: ``import
# nbprod`` is cheap in the launcher of every command, and ``nbprod.record`` then loads this.
_ON_FIRST_USE = {"nbprod": ("nbprod.execute.capture",)}


def _local_names(folder: Path) -> set[str]:
    """Top-level names that ``import`` finds in ``folder`` (modules and packages).

    The standard library comes before the working directory on a kernel's ``sys.path``, so
    such a name shadows only installed (site-packages) modules.
    """
    try:
        entries = os.listdir(folder)
    except OSError:
        return set()
    return {entry.split(".", 1)[0] for entry in entries
            if "." not in entry or entry.rsplit(".", 1)[-1] in ("py", "pyc", "so", "pyd")}


@functools.lru_cache(maxsize=1)
def install_roots() -> tuple[str, ...]:
    """The stdlib and site-packages folders, resolved, each ending in a separator (they are
    this interpreter's for its life; sysconfig would work them out anew each call)."""
    paths = sysconfig.get_paths()
    return tuple(sorted({os.path.join(os.path.realpath(paths[key]), "")
                         for key in ("purelib", "platlib", "stdlib")}))


def installed_file(path: object, roots: tuple[str, ...]) -> bool:
    """Whether ``path`` is a file under ``roots`` (see :func:`install_roots`)."""
    return isinstance(path, str) and os.path.realpath(path).startswith(roots)


def _installed(name: str, roots: tuple[str, ...]) -> bool:
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
    return installed_file(str(origin), roots)


def module_files(names: Iterable[str]) -> list[str]:
    """Files whose change means a template must restart (each named module's own file).

    A submodule's file is found under its top-level package's folders, without importing the
    package (``find_spec("pkg.sub")`` would import ``pkg``).
    """
    files = set()
    for name in names:
        top, *rest = name.split(".")
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        if spec.origin and os.path.isfile(spec.origin):
            files.add(spec.origin)
        for location in (spec.submodule_search_locations or []) if rest else []:
            found = _submodule_file(Path(location), rest)
            if found is not None:
                files.add(str(found))
                break
    return sorted(files)


def _submodule_file(root: Path, parts: list[str]) -> Path | None:
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if last and (root / f"{part}.py").is_file():
            return root / f"{part}.py"
        root = root / part
        if not root.is_dir():
            return None
    init = root / "__init__.py"
    return init if init.is_file() else None
