"""Generate the injected parameters cell, and prove it is exactly what was meant.

The cell is built with ``repr`` of plain data, then re-parsed: it must be exactly one
``name = literal`` assignment per parameter, and each literal must evaluate back to the value
it came from (same types, same contents). A name or value crafted to smuggle code in fails that
check rather than running.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ParameterError
from ._nbformat import nbformat
from .load import INJECTED_TAG, Notebook

HEADER = "# Parameters injected by nbprod"


@dataclass(frozen=True)
class InjectedNotebook:
    """The notebook to execute and how its cells map back to the input notebook's cells."""

    node: Any
    injected_index: int | None
    source_index: tuple[int | None, ...]  # output cell position -> input cell position

    def input_index(self, output_index: int | None) -> int | None:
        if output_index is None or not 0 <= output_index < len(self.source_index):
            return None
        return self.source_index[output_index]


def injection_source(parameters: Mapping[str, Any]) -> str:
    """The Python source of the injected cell, checked by re-parsing it."""
    lines = [HEADER] + [f"{name} = {value!r}" for name, value in parameters.items()]
    source = "\n".join(lines) + "\n"
    _verify(source, parameters)
    return source


def _verify(source: str, parameters: Mapping[str, Any]) -> None:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"parameters cannot be written as Python literals ({exc.msg})") \
            from None
    expected = list(parameters.items())
    if len(tree.body) != len(expected):
        raise ParameterError("parameters do not round-trip: the injected cell would hold "
                             f"{len(tree.body)} statements for {len(expected)} parameters")
    for node, (name, value) in zip(tree.body, expected, strict=True):
        ok = (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name)
        if ok and isinstance(node, ast.Assign):
            try:
                ok = _same(ast.literal_eval(node.value), value)
            except (ValueError, SyntaxError, TypeError):
                ok = False
        if not ok:
            raise ParameterError(f"parameter '{name}' does not round-trip as a Python literal; "
                                 "refusing to inject it", parameter=name)


def _same(left: Any, right: Any) -> bool:
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right,
                                                                             strict=True))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    return bool(left == right)


def inject_parameters(notebook: Notebook, parameters: Mapping[str, Any]) -> InjectedNotebook:
    """A copy of the notebook with the parameters cell injected after the ``parameters`` cell.

    Without parameters nothing is injected. Without a ``parameters`` cell (only reachable with
    ``--no-strict``) the cell goes first, as papermill does.
    """
    node = copy.deepcopy(notebook.node)
    node.metadata.setdefault("papermill", {})["parameters"] = dict(parameters)
    # (input position, cell) pairs; a stale injected cell (the input was already executed by
    # papermill or nbprod) is replaced, as papermill does, or it would override these values.
    kept = [(i, cell) for i, cell in enumerate(node.cells)
            if not parameters or INJECTED_TAG not in cell.get("metadata", {}).get("tags", [])]
    mapping: list[int | None] = [i for i, _cell in kept]
    cells = [cell for _i, cell in kept]
    injected_index = None
    if parameters:
        cell = nbformat.v4.new_code_cell(source=injection_source(parameters))
        cell.metadata["tags"] = [INJECTED_TAG]
        tagged = notebook.parameters_cells
        after = next((k for k, i in enumerate(mapping) if tagged and i == tagged[0]), None)
        injected_index = 0 if after is None else after + 1
        cells.insert(injected_index, cell)
        # a failure in the injected cell is reported at the parameters cell
        mapping.insert(injected_index, tagged[0] if tagged else None)
    node.cells = cells
    return InjectedNotebook(node=node, injected_index=injected_index,
                            source_index=tuple(mapping))
