"""Generate the injected parameters cell, and prove it is exactly what was meant.

The cell is built with ``repr`` of plain data, then re-parsed: it must be exactly one
``name = literal`` assignment per parameter, and each literal must evaluate back to the value
it came from (same types, same contents). A name or value crafted to smuggle code in fails that
check rather than running.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Mapping, Sequence
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


def injection_source(parameters: Mapping[str, Any], secrets: Sequence[str] = ()) -> str:
    """The Python source of the injected cell, checked by re-parsing it.

    ``secrets`` are names read from the kernel's environment (``notebook/secrets.py``), after
    the literal assignments; their values are never in the source.
    """
    lines = [HEADER] + [f"{name} = {value!r}" for name, value in parameters.items()]
    literals = "\n".join(lines) + "\n"
    _verify(literals, parameters)
    if not secrets:
        return literals
    from .secrets import injected_line

    extra = [injected_line(name) for name in secrets]
    for name, line in zip(secrets, extra, strict=True):
        _verify_secret(name, line)
    return literals + "\n".join(extra) + "\n"


def _verify_secret(name: str, line: str) -> None:
    """The statement must be exactly ``name = __import__('os').environ['NBPROD_SECRET_…']``."""
    from .secrets import env_name

    try:
        tree = ast.parse(line)
    except SyntaxError:
        tree = None
    expected = ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=ast.Subscript(
        value=ast.Attribute(value=ast.Call(func=ast.Name(id="__import__", ctx=ast.Load()),
                                           args=[ast.Constant(value="os")], keywords=[]),
                            attr="environ", ctx=ast.Load()),
        slice=ast.Constant(value=env_name(name)), ctx=ast.Load()))
    if tree is None or len(tree.body) != 1 or ast.dump(tree.body[0]) != ast.dump(expected):
        raise ParameterError(f"secret parameter '{name}' cannot be injected safely",
                             parameter=name)


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


def inject_parameters(notebook: Notebook, parameters: Mapping[str, Any],
                      secrets: Sequence[str] = ()) -> InjectedNotebook:
    """A copy of the notebook with the parameters cell injected after the ``parameters`` cell.

    Without parameters nothing is injected. Without a ``parameters`` cell (only reachable with
    ``--no-strict``) the cell goes first, as papermill does. ``secrets`` are read from the
    kernel's environment; the notebook's metadata shows them as ``***``.
    """
    node = copy.deepcopy(notebook.node)
    node.metadata.setdefault("papermill", {})["parameters"] = {
        **dict(parameters), **{name: "***" for name in secrets}}
    inject = bool(parameters or secrets)
    # (input position, cell) pairs; a stale injected cell (the input was already executed by
    # papermill or nbprod) is replaced, as papermill does, or it would override these values.
    kept = [(i, cell) for i, cell in enumerate(node.cells)
            if not inject or INJECTED_TAG not in cell.get("metadata", {}).get("tags", [])]
    mapping: list[int | None] = [i for i, _cell in kept]
    cells = [cell for _i, cell in kept]
    injected_index = None
    if inject:
        cell = nbformat.v4.new_code_cell(source=injection_source(parameters, secrets))
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
