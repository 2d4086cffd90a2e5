"""Does a notebook's JSON match the nbformat 4 schema? nbformat's answer, about twice as fast.

nbformat checks each cell against ``oneOf`` the raw, markdown and code cell schemas, so
fastjsonschema tries all three and raises for two of them on every cell. Their ``cell_type``
constants exclude each other, so a cell matches ``oneOf`` exactly when it matches the schema
of its own ``cell_type``: this checks the notebook without its cells, then each cell against
that one schema. A code cell's outputs are ``oneOf`` four output schemas told apart the same
way, by ``output_type``: each output is checked against its own; and a multiline string
(``oneOf`` a string or a list of strings) is checked as either type. It answers only for cells
whose type is one of the three (the linter's structural check ensures that); with nbformat's
other validator (jsonschema), or a schema shaped otherwise, it asks nbformat.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

_CELL_TYPES = ("raw", "markdown", "code")
_OUTPUT_TYPES = ("execute_result", "display_data", "stream", "error")
Check = Callable[[Any], object]


def schema_error(data: Any) -> str | None:
    """Why ``data`` (a dict whose cells are dicts of a known ``cell_type``) does not match
    the nbformat 4 schema of its minor version, or None."""
    minor = data.get("nbformat_minor", 5)
    split = _split(minor) if isinstance(minor, int) else None
    if split is None:
        return _whole(data)
    import fastjsonschema

    notebook, cells, outputs = split
    try:
        notebook(data)
        for cell in data["cells"]:
            kind = cell["cell_type"]
            cells[kind](cell)
            if kind == "code" and outputs is not None and not _outputs_valid(cell, outputs):
                return "an output does not match the schema of its output_type"
    except fastjsonschema.JsonSchemaException as exc:
        return str(exc)
    return None


def _outputs_valid(cell: Any, outputs: dict[str, Check]) -> bool:
    """Each output of a code cell (whose ``outputs`` is a list) against its own schema;
    raises as fastjsonschema does for an output of a known type that does not match."""
    for output in cell["outputs"]:
        check = outputs.get(str(output.get("output_type"))) if isinstance(output, dict) else None
        if check is None:  # not an object, or no known output_type: no schema can match
            return False
        check(output)
    return True


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
def _split(minor: int) -> tuple[Check, dict[str, Check], dict[str, Check] | None] | None:
    """The notebook schema without its cells, each cell type's schema (the code cell's
    without its outputs' items if they can be split too), and each output type's, compiled."""
    whole = validator(minor)
    schema: dict[str, Any] = getattr(whole, "_schema", None) or {}
    definitions = schema.get("definitions", {})
    if getattr(whole, "name", "") != "fastjsonschema" or \
            _refs(definitions.get("cell", {})) != [f"{kind}_cell" for kind in _CELL_TYPES]:
        return None
    import fastjsonschema

    definitions = copy.deepcopy(definitions)
    misc = definitions.get("misc", {})
    if misc.get("multiline_string") == {"oneOf": [
            {"type": "string"}, {"type": "array", "items": {"type": "string"}}]}:
        # types that exclude each other: the same answer as oneOf, with nothing raised
        misc["multiline_string"] = {"type": ["string", "array"], "items": {"type": "string"}}
    # each part under the whole schema's draft (nbformat's is draft 4, where 2.0 is not an
    # integer; fastjsonschema takes a schema that names none as draft 7, where it is)
    draft = {"$schema": schema["$schema"]} if "$schema" in schema else {}

    def part(name: str) -> Check:
        return fastjsonschema.compile({**draft, "$ref": f"#/definitions/{name}",
                                       "definitions": definitions})

    outputs = None
    if _outputs_split(definitions):
        definitions["code_cell"]["properties"]["outputs"].pop("items")
        outputs = {kind: part(kind) for kind in _OUTPUT_TYPES}
    top = copy.deepcopy(schema)
    top["properties"]["cells"] = {"type": "array"}
    top["definitions"] = definitions
    cells = {kind: part(f"{kind}_cell") for kind in _CELL_TYPES}
    return fastjsonschema.compile(top), cells, outputs


def _refs(definition: dict[str, Any]) -> list[str]:
    return [str(item.get("$ref", "")).removeprefix("#/definitions/")
            for item in definition.get("oneOf", [])]


def _outputs_split(definitions: dict[str, Any]) -> bool:
    """Whether outputs are ``oneOf`` the four output types, each requiring its own constant
    ``output_type`` (so an output matches ``oneOf`` exactly when it matches its type's)."""
    items = definitions.get("code_cell", {}).get("properties", {}).get("outputs", {})
    output = definitions.get("output", {})
    if items.get("type") != "array" or items.get("items") != {"$ref": "#/definitions/output"} \
            or set(output) != {"type", "oneOf"} or output["type"] != "object" \
            or _refs(output) != list(_OUTPUT_TYPES):
        return False
    return all("output_type" in definitions.get(kind, {}).get("required", ())
               and definitions[kind].get("properties", {}).get("output_type", {}).get("enum")
               == [kind] for kind in _OUTPUT_TYPES)
