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
