"""Check and coerce the parameters a user gives against a notebook's contract.

Values arrive as strings from ``-p NAME VALUE`` or typed from a YAML file (``-f``). Each is
checked before any kernel starts: unknown names are refused with a suggestion, strings are
coerced by the declared type, and a value that does not fit is refused naming the parameter,
the expected type, the value and where it came from.
"""

from __future__ import annotations

import difflib
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
_INT = re.compile(r"^[+-]?\d[\d_]*$")


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
        if given_value.raw:
            value = coerce_string(str(given_value.value), ptype, name, given_value.source,
                                  papermill_style=parameter is None)
        else:
            value = given_value.value
        if not is_plain_data(value):
            raise ParameterError(
                f"parameter '{name}' (from {given_value.source}): {value!r} is not plain data; "
                "only str, int, float (finite), bool, None, lists and dicts of those",
                parameter=name)
        if parameter is not None and not ptype.accepts(value):
            raise _mismatch(name, ptype, value, given_value.source)
        if ptype.base == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        resolved[name] = value
    return resolved


def coerce_string(text: str, ptype: ParamType, name: str, source: str, *,
                  papermill_style: bool = False) -> Any:
    """Turn a command-line string into a value of ``ptype``."""
    stripped = text.strip()
    if (ptype.optional or ptype.base == "any") and stripped.lower() in _NONE:
        return None
    base = ptype.base
    try:
        if base == "str":
            return text
        if base == "int":
            if not _INT.match(stripped):
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
            value = _safe_yaml(stripped)
            if not ptype.accepts(value):
                raise ValueError
            return value
        return _papermill_value(stripped) if papermill_style else _safe_yaml(stripped)
    except (ValueError, yaml.YAMLError):
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


def _safe_yaml(text: str) -> Any:
    value = yaml.load(text, Loader=PlainLoader)
    return text if value is None and text.lower() not in _NONE and text else value


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
    """YAML safe loader that keeps dates as strings: parameters are plain data only."""


PlainLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_parameter_file(path: Path) -> dict[str, GivenValue]:
    """Read ``-f params.yaml``: a mapping of names to plain values (safe loader, no tags)."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError(f"cannot read parameter file {shown}: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=PlainLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParameterError(f"{shown}{where}: not valid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(f"{shown}: must be a mapping of parameter names to values, "
                             f"got {type(data).__name__}")
    return {str(k): GivenValue(v, source=shown) for k, v in data.items()}
