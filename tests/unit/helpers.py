"""Builders for tiny notebooks (nbformat.v4), shared by the unit tests."""

from __future__ import annotations

from typing import Any

import nbformat


def code(source: str, *tags: str, **fields: Any) -> Any:
    """A v4 code cell with the given tags."""
    cell = nbformat.v4.new_code_cell(source, **fields)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def markdown(source: str) -> Any:
    return nbformat.v4.new_markdown_cell(source)


def new_notebook(*cells: Any, kernel: str | None = "python3") -> Any:
    node = nbformat.v4.new_notebook(cells=list(cells))
    if kernel is not None:
        node.metadata["kernelspec"] = {"name": kernel, "display_name": kernel,
                                       "language": "python"}
    return node


def same_typed(left: Any, right: Any) -> bool:
    """Equal with the same types all the way down (1 != 1.0 != True); floats by repr."""
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same_typed, left, right))
    if isinstance(left, dict):
        return list(left) == list(right) and all(same_typed(left[k], right[k]) for k in left)
    if isinstance(left, float):
        return repr(left) == repr(right)
    return bool(left == right)
