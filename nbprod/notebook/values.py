"""Check and coerce the parameters a user gives against a notebook's contract.

Values arrive as strings from ``-p NAME VALUE`` or typed from a YAML file (``-f``). Each is
checked before any kernel starts: unknown names are refused with a suggestion, strings are
coerced by the declared type, and a value that does not fit is refused naming the parameter,
the expected type, the value and where it came from.
"""

from __future__ import annotations

import ast
import difflib
import json
import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import ParameterError
from .contract import ANY, ParameterContract, ParamType, is_plain_data

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_NONE = {"none", "null", "~"}
_INT = re.compile(r"[+-]?\d[\d_]*")


@dataclass(frozen=True)
class GivenValue:
    """A value as the user gave it: a CLI string (``raw``) or a typed value from a file."""

    value: Any
    source: str  # "-p", "params.yaml", "settings"
    raw: bool = False


def check_name(name: str, source: str) -> None:
    """Parameter names must be Python identifiers and not keywords."""
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("__"):
        raise ParameterError(
            f"parameter name {name!r} (from {source}) is not a valid Python identifier",
            parameter=name, hint="use letters, digits and _ and do not start with a digit")


def resolve_parameters(contract: ParameterContract, given: Mapping[str, GivenValue], *,
                       strict: bool = True) -> dict[str, Any]:
    """Return the coerced parameters; raise :class:`ParameterError` on the first problem.

    ``strict`` refuses names the contract does not declare; without it (``--no-strict``)
    unknown names pass with papermill's string interpretation, as papermill would run them.
    """
    resolved: dict[str, Any] = {}
    for name, given_value in given.items():
        check_name(name, given_value.source)
        parameter = contract.get(name)
        if parameter is None:
            if strict:
                raise _unknown(contract, name, given_value.source)
            ptype = ANY
        else:
            ptype = parameter.type
        if parameter is not None and parameter.secret:
            resolved[name] = _secret_value(name, given_value)  # never shown in an error
            continue
        if given_value.raw:
            # A name the notebook does not declare, or one whose default it computes without
            # an annotation, reads its string as papermill would; a typed one by its type.
            untyped = parameter is None or (parameter.computed is not None
                                            and not parameter.typed)
            value = coerce_string(str(given_value.value), ptype, name, given_value.source,
                                  papermill_style=untyped)
        else:
            value = given_value.value
        if not is_plain_data(value):
            raise ParameterError(
                f"parameter '{name}' (from {given_value.source}): {value!r} is not plain data; "
                "only str, int, float (finite), bool, None, lists and dicts of those",
                parameter=name)
        if parameter is not None and not ptype.accepts(value):
            raise _mismatch(name, ptype, value, given_value.source)
        resolved[name] = _as_declared(value, ptype)
    return resolved


def _secret_value(name: str, given: GivenValue) -> str:
    value = str(given.value) if given.raw else given.value
    if not isinstance(value, str):
        raise ParameterError(f"secret parameter '{name}' (from {given.source}) must be a "
                             "string", parameter=name)
    return value


def _as_declared(value: Any, ptype: ParamType) -> Any:
    """Ints where floats are declared become floats, at any depth (``list[float]``)."""
    if ptype.base == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if ptype.item is not None and isinstance(value, list):
        return [_as_declared(v, ptype.item) for v in value]
    if ptype.item is not None and isinstance(value, dict):
        return {k: _as_declared(v, ptype.item) for k, v in value.items()}
    return value



def coerce_string(text: str, ptype: ParamType, name: str, source: str, *,
                  papermill_style: bool = False) -> Any:
    """Turn a command-line string into a value of ``ptype``."""
    stripped = text.strip()
    if papermill_style:
        return _papermill_value(stripped)
    if (ptype.optional or ptype.base == "any") and stripped.lower() in _NONE:
        return None
    base = ptype.base
    try:
        if base == "str":
            return text
        if base == "int":
            if not _INT.fullmatch(stripped):
                raise ValueError
            return int(stripped)
        if base == "float":
            number = float(stripped)
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError
            return number
        if base == "bool":
            lowered = stripped.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError
        if base in ("list", "dict"):
            value = _literal(stripped)
            if not ptype.accepts(value):
                raise ValueError
            return value
        return _untyped(stripped)
    except ValueError:
        raise _mismatch(name, ptype, text, source) from None


def _papermill_value(text: str) -> Any:
    """papermill's reading of an untyped ``-p`` value: bool, None, int, float, else str."""
    if text in ("True", "False"):
        return text == "True"
    if text == "None":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _literal(text: str) -> Any:
    """A value written as JSON, a Python literal, or YAML flow (``[a, 'b c']``).

    YAML is read with :class:`PlainLoader` (YAML 1.2 core scalars), so ``[010]`` is ten and
    ``[10:30]`` a string; tags are refused. Raises ValueError when none of them reads it.
    """
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    try:
        return yaml.load(text, Loader=PlainLoader)
    except yaml.YAMLError:
        raise ValueError(text) from None


def _untyped(text: str) -> Any:
    """A value for a parameter declared without a type (``x = None``)."""
    if text.lower() in _NONE:
        return None
    return _literal(text)


def _unknown(contract: ParameterContract, name: str, source: str) -> ParameterError:
    if contract.cell_index is None:
        return ParameterError(
            f"parameter '{name}' (from {source}): the notebook has no cell tagged 'parameters'",
            parameter=name,
            hint="tag the cell that holds its defaults 'parameters', or pass --no-strict")
    close = difflib.get_close_matches(name, contract.names, n=1)
    known = ", ".join(contract.names) or "none"
    hint = f"did you mean '{close[0]}'?" if close else f"the notebook declares: {known}"
    return ParameterError(f"unknown parameter '{name}' (from {source})", parameter=name,
                          hint=hint)


def _mismatch(name: str, ptype: ParamType, value: Any, source: str) -> ParameterError:
    shown = repr(value) if not isinstance(value, str) else repr(value[:60])
    return ParameterError(f"parameter '{name}' expects {ptype}, got {shown} (from {source})",
                          parameter=name)


class PlainLoader(yaml.SafeLoader):
    """A YAML safe loader with YAML 1.2's core scalars: plain data, no surprises.

    YAML 1.1 (PyYAML's default) reads ``on``/``no`` as booleans, ``010`` as octal, ``10:30``
    as base 60 and ``2024-01-01`` as a date; here only ``true``/``false`` are booleans, integers
    are decimal, and dates stay strings. Tags (``!!python/...``) are refused, as by SafeLoader.
    """


PlainLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("int", r"[-+]?[0-9]+", "-+0123456789"),
    ("float", r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)"
              r"|\.(nan|NaN|NAN)", "-+0123456789."),
    ("null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
):
    PlainLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}",
                                      re.compile(f"^(?:{_pattern})$"), list(_first))


def _decimal_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    return int(str(loader.construct_scalar(node)))


PlainLoader.add_constructor("tag:yaml.org,2002:int", _decimal_int)


def read_parameter_file(path: Path) -> dict[str, GivenValue]:
    """Read ``-f params.yaml``: a mapping of names to plain values (safe loader, no tags)."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError(f"cannot read parameter file {shown}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ParameterError(f"parameter file {shown} is not UTF-8 text (byte {exc.start})",
                             hint="save it as UTF-8") from None
    try:
        data = yaml.load(text, Loader=PlainLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParameterError(f"{shown}{where}: not valid YAML: {problem}") from None
    except RecursionError:
        raise ParameterError(f"{shown}: nested too deeply to read") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(f"{shown}: must be a mapping of parameter names to values, "
                             f"got {type(data).__name__}")
    return {str(k): GivenValue(v, source=shown) for k, v in data.items()}
