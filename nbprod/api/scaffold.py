"""Use cases: start a project (``nbprod init``) or a notebook (``nbprod new``) from templates.

The templates are the ``templates/`` folder of nbprod's sources, shipped inside the package as
``nbprod.templates`` and read through :mod:`importlib.resources`, so an installed and an
editable nbprod write the same files. ``{{ name }}`` in a template becomes the project's or the
notebook's name; a file named ``gitignore`` is written as ``.gitignore``. Nothing is fetched:
scaffolding works offline. Nothing existing is replaced unless asked to.
"""

from __future__ import annotations

import os
import re
import shlex
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.abc import Traversable
from importlib.resources import files
from pathlib import Path, PurePosixPath

from ..errors import InvalidInput, NotFound, WouldOverwrite

PLACEHOLDER = "{{ name }}"
_RENAMED = {"gitignore": ".gitignore"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SKIPPED = {"__init__.py", "__pycache__"}


@dataclass(frozen=True)
class Scaffold:
    """What was written, where, and what to try next."""

    root: Path
    written: tuple[Path, ...]
    next_steps: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"root": str(self.root), "written": [str(p) for p in self.written],
                "next_steps": list(self.next_steps)}


def templates_root() -> Traversable:
    return files("nbprod.templates")


def notebook_templates() -> list[str]:
    """The names ``nbprod new --template`` accepts."""
    folder = templates_root() / "notebooks"
    return sorted(item.name.removesuffix(".ipynb") for item in folder.iterdir()
                  if item.name.endswith(".ipynb"))


def init_project(folder: Path, *, force: bool = False) -> Scaffold:
    """Write a new project (settings, a two-step pipeline, .gitignore, README) into ``folder``.

    Raises
    ------
    WouldOverwrite
        A file the project would write exists already (each is named), unless ``force``.
    """
    folder = folder.resolve()
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"{folder} exists and is not a folder",
                           hint="give a new or existing folder to create the project in")
    name = _project_name(folder)
    planned = [(folder.joinpath(*relative.parts), source)
               for relative, source in _tree(templates_root() / "project")]
    _refuse_existing([path for path, _ in planned], folder, force,
                     hint="use --force to replace them, or choose another folder")
    for path, source in planned:
        _write(path, _render(source, name))
    shown = os.path.relpath(folder)
    return Scaffold(root=folder, written=tuple(p for p, _ in planned), next_steps=(
        *(() if shown == "." else (f"cd {_quoted(shown)}",)),
        "nbprod lint && nbprod test      # check the notebooks",
        "nbprod job run pipeline         # run prepare -> train into versioned records",
        "nbprod runs                     # what ran, with its values"))


def new_notebook(notebook_dir: Path, name: str, *, template: str = "blank",
                 force: bool = False) -> Scaffold:
    """Write ``notebook_dir/NAME.ipynb`` from the notebook template ``template``."""
    if not _NAME.fullmatch(name) or name.endswith(".ipynb"):
        raise InvalidInput(f"notebook name {name!r} is not allowed",
                           hint="use letters, digits, '.', '_' and '-', without .ipynb "
                                "(nbprod new churn_model)")
    names = notebook_templates()
    if template not in names:
        raise NotFound(f"no notebook template '{template}'", hint=f"templates: {', '.join(names)}")
    path = notebook_dir.resolve() / f"{name}.ipynb"
    _refuse_existing([path], path.parent, force, hint="use --force to replace it, or choose "
                                                      "another name")
    _write(path, _render(templates_root() / "notebooks" / f"{template}.ipynb", name))
    return Scaffold(root=path.parent, written=(path,), next_steps=(
        f"jupyter lab {_quoted(os.path.relpath(path))}   # edit it",
        f"nbprod params {name}             # the parameters it declares",
        f"nbprod run {name}                # run it into a versioned record"))


def _tree(folder: Traversable, prefix: PurePosixPath | None = None) -> \
        Iterator[tuple[PurePosixPath, Traversable]]:
    """(path to write, template file) for every file under ``folder``, sorted."""
    prefix = prefix or PurePosixPath()
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.name in _SKIPPED:
            continue
        if item.is_dir():
            yield from _tree(item, prefix / item.name)
        else:
            yield prefix / _RENAMED.get(item.name, item.name), item


def _render(source: Traversable, name: str) -> bytes:
    return source.read_text(encoding="utf-8").replace(PLACEHOLDER, name).encode("utf-8")


def _project_name(folder: Path) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.name).strip("-.") or "project"
    return cleaned[:100]


def _refuse_existing(paths: list[Path], root: Path, force: bool, hint: str) -> None:
    existing = tuple(os.path.relpath(p) for p in paths if p.exists() or p.is_symlink())
    if existing and not force:
        raise WouldOverwrite(f"would overwrite {len(existing)} existing file(s): "
                             f"{', '.join(existing)}", paths=existing, hint=hint)
    for path in paths:
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise InvalidInput(f"{os.path.relpath(path)} is a link or a folder; not replacing it",
                               hint="move it away first")
        if not path.resolve().is_relative_to(root.resolve()):
            raise InvalidInput(f"{path} resolves outside {root}")


def _write(path: Path, data: bytes) -> None:
    """Write atomically (a temporary file in the same folder, then a rename)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(temp, 0o644)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}",
                           hint="check the folder's permissions and free space") from exc


def _quoted(text: str) -> str:
    return shlex.quote(text)


__all__ = ["Scaffold", "init_project", "new_notebook", "notebook_templates"]
