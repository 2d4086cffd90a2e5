"""Use case: a notebook's parameter contract, as ``nbprod params`` shows it.

Reads the notebook and its first ``parameters`` cell only: no registry, no kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Settings
from ..notebook.contract import Advisory, ParameterContract
from .project import find_notebook


@dataclass(frozen=True)
class NotebookParameters:
    """The contract of one notebook, with what was normalized to read it."""

    notebook: str  # as given, resolved relative to the project when inside it
    path: Path
    kernel: str | None
    contract: ParameterContract
    notes: tuple[str, ...] = ()

    @property
    def advisories(self) -> tuple[Advisory, ...]:
        return self.contract.advisories

    def to_json(self) -> list[dict[str, Any]]:
        """One object per parameter: name, type, default, help, typed, computed."""
        return self.contract.to_json()


def notebook_parameters(settings: Settings, ref: str, *,
                        strict: bool | None = None) -> NotebookParameters:
    """The parameter contract of the notebook ``ref`` (a path, or a name from settings).

    Raises
    ------
    NotFound
        No such notebook.
    NotebookInvalid
        The file is not a readable notebook, or (``strict``) a literal default contradicts
        its annotation.
    """
    from ..notebook import contract_of, read_notebook  # nbformat: only when asked

    path, _entry = find_notebook(settings.project_root, settings.notebook_dir,
                                 settings.notebooks, ref)
    notebook = read_notebook(path)
    contract = contract_of(notebook, strict=settings.strict if strict is None else strict)
    try:
        shown = path.relative_to(settings.project_root.resolve()).as_posix()
    except ValueError:
        shown = str(path)
    return NotebookParameters(notebook=shown, path=path, kernel=notebook.kernel_name,
                              contract=contract, notes=notebook.notes)


__all__ = ["NotebookParameters", "notebook_parameters"]
