"""Does a notebook's JSON match the nbformat 4 schema? nbformat's answer, about twice as fast.

nbformat checks each cell against ``oneOf`` the raw, markdown and code cell schemas, so
fastjsonschema tries all three and raises for two of them on every cell. Their ``cell_type``
constants exclude each other, so a cell matches ``oneOf`` exactly when it matches the schema
of its own ``cell_type``: this checks the notebook without its cells, then each cell against
that one schema. It answers only for cells whose type is one of the three (the linter's
structural check ensures that); with nbformat's other validator (jsonschema) it asks nbformat.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

_CELL_TYPES = ("raw", "markdown", "code")
Check = Callable[[Any], object]


def schema_error(data: Any) -> str | None:
    """Why ``data`` (a dict whose cells are dicts of a known ``cell_type``) does not match
    the nbformat 4 schema of its minor version, or None."""
    minor = data.get("nbformat_minor", 5)
    split = _split(minor) if isinstance(minor, int) else None
    if split is None:
        return _whole(data)
    import fastjsonschema

    notebook, cells = split
    try:
        notebook(data)
        for cell in data["cells"]:
            cells[cell["cell_type"]](cell)
    except fastjsonschema.JsonSchemaException as exc:
        return str(exc)
    return None


def validator(minor: Any) -> Any:
    """nbformat's own validator for 4.``minor``."""
    from ..notebook._nbformat import nbformat  # the guard against jsonschema's grammar first

    return nbformat.validator.get_validator(4, minor)


def _whole(data: Any) -> str | None:
    try:
        validator(data.get("nbformat_minor", 5)).validate(data)
    except Exception as exc:  # fastjsonschema and jsonschema raise different classes
        return str(exc)
    return None


@functools.cache
def _split(minor: int) -> tuple[Check, dict[str, Check]] | None:
    """The notebook schema without its cells, and each cell type's schema, compiled."""
    whole = validator(minor)
    schema: dict[str, Any] = getattr(whole, "_schema", None) or {}
    cell = schema.get("definitions", {}).get("cell", {})
    refs = [item.get("$ref") for item in cell.get("oneOf", [])]
    if getattr(whole, "name", "") != "fastjsonschema" or \
            refs != [f"#/definitions/{kind}_cell" for kind in _CELL_TYPES]:
        return None
    import fastjsonschema

    top = copy.deepcopy(schema)
    top["properties"]["cells"] = {"type": "array"}
    cells = {kind: fastjsonschema.compile({"$ref": f"#/definitions/{kind}_cell",
                                           "definitions": schema["definitions"]})
             for kind in _CELL_TYPES}
    return fastjsonschema.compile(top), cells
