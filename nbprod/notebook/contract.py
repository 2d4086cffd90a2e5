"""The parameter contract: what the ``parameters`` cell promises, parsed with ``ast``.

``alpha: float = 0.5  # regularisation`` becomes ``Parameter(name="alpha", type=float,
default=0.5, help="regularisation")``. The type comes from the annotation, else from the
literal. Only plain data is allowed: str, int, float, bool, None, and lists and dicts of those
(``list[int]``, ``dict[str, float]``, ``int | None``, ``Optional[str]``).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from typing import Any

from ..errors import NotebookInvalid

_BASES = {"int": "int", "float": "float", "str": "str", "bool": "bool", "list": "list",
          "List": "list", "dict": "dict", "Dict": "dict", "Any": "any", "object": "any"}
# Magics and shell escapes are IPython syntax, not Python; they carry no parameters.
_MAGIC_LINE = re.compile(r"^\s*[%!]")
# ``db_password: str = ""  # nbprod: secret`` (the rest of the comment is the help).
_SECRET_MARK = re.compile(r"(?:^|[;,]\s*|\s)nbprod:\s*secret\b[;,]?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class ParamType:
    """A plain-data type: a base, whether None is allowed, and the item type of containers."""

    base: str  # int | float | str | bool | list | dict | any
    optional: bool = False
    item: ParamType | None = None

    def __str__(self) -> str:
        text = self.base if self.item is None else (
            f"list[{self.item}]" if self.base == "list" else f"dict[str, {self.item}]")
        return f"{text} | None" if self.optional and self.base != "any" else text

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` (already plain data) fits this type exactly."""
        if value is None:
            return self.optional or self.base == "any"
        if self.base == "any":
            return True
        if self.base == "bool":
            return isinstance(value, bool)
        if self.base == "int":
            return isinstance(value, int) and not isinstance(value, bool)
        if self.base == "float":
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if self.base == "str":
            return isinstance(value, str)
        if self.base == "list":
            return isinstance(value, list) and (
                self.item is None or all(self.item.accepts(v) for v in value))
        if self.base == "dict":
            return isinstance(value, dict) and all(isinstance(k, str) for k in value) and (
                self.item is None or all(self.item.accepts(v) for v in value.values()))
        return False

    def to_json(self) -> str:
        return str(self)


ANY = ParamType("any", optional=True)


@dataclass(frozen=True)
class Parameter:
    """One declared parameter."""

    name: str
    type: ParamType
    default: Any
    help: str | None
    line: int
    typed: bool  # annotated, or typed by a non-None literal
    # ``# nbprod: secret``: passed through the kernel's environment, never written anywhere.
    secret: bool = False

    def to_json(self) -> dict[str, Any]:
        data = {"name": self.name, "type": str(self.type), "default": self.default,
                "help": self.help, "typed": self.typed}
        if self.secret:
            data["secret"] = True
        return data


@dataclass(frozen=True)
class ParameterContract:
    """The parameters of one notebook, in declaration order."""

    cell_index: int | None
    parameters: tuple[Parameter, ...] = ()

    def get(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def to_json(self) -> list[dict[str, Any]]:
        return [p.to_json() for p in self.parameters]


class ContractError(NotebookInvalid):
    """The parameters cell does not declare a plain-data contract."""


def parse_contract(source: str, *, cell_index: int | None, path: str,
                   strict: bool = True) -> ParameterContract:
    """Parse a parameters cell's source into a contract.

    With ``strict``, anything but literal assignments (imports, calls, unknown annotations)
    is a :class:`ContractError`; without, such statements are skipped as papermill would.
    """
    where = f"parameters cell (cell {cell_index})"
    python = source
    try:
        tree = ast.parse(python)
    except SyntaxError:
        # IPython syntax (%magic, !shell) is not Python: blank those lines and parse again.
        # Only then, so a line starting with % inside a string literal stays as written.
        python = "\n".join("" if _MAGIC_LINE.match(line) else line
                           for line in source.splitlines())
        try:
            tree = ast.parse(python)
        except SyntaxError as exc:
            raise ContractError(path, f"{where} line {exc.lineno}: syntax error: {exc.msg}") \
                from None
    comments = _trailing_comments(python)
    parameters: list[Parameter] = []
    for node in tree.body:
        try:
            parameter = _parameter(node, comments)
        except _Skip as skip:
            if strict:
                raise ContractError(path, f"{where} line {node.lineno}: {skip}",
                                    hint="keep only `name: type = literal` lines there, "
                                         "or run with --no-strict") from None
            continue
        if parameter.name in {p.name for p in parameters}:
            raise ContractError(path, f"{where} line {node.lineno}: parameter "
                                      f"'{parameter.name}' is declared twice")
        parameters.append(parameter)
    return ParameterContract(cell_index=cell_index, parameters=tuple(parameters))


_STATEMENTS = {
    "Import": "an import", "ImportFrom": "an import", "Expr": "an expression",
    "AugAssign": "an augmented assignment (+=)", "If": "an if statement",
    "For": "a for loop", "While": "a while loop", "With": "a with block",
    "FunctionDef": "a function definition", "ClassDef": "a class definition",
    "Try": "a try block", "Delete": "a del statement", "Assert": "an assert",
    "Global": "a global statement", "Pass": "a pass statement",
}


class _Skip(Exception):
    """A statement that is not a plain-data parameter declaration."""


def _parameter(node: ast.stmt, comments: dict[int, str]) -> Parameter:
    if isinstance(node, ast.AnnAssign):
        if not isinstance(node.target, ast.Name) or node.value is None:
            raise _Skip("annotated parameters need a name and a default value")
        name, value_node, annotation = node.target.id, node.value, node.annotation
    elif isinstance(node, ast.Assign):
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            raise _Skip("assign one name per line (no unpacking or chained assignment)")
        name, value_node, annotation = node.targets[0].id, node.value, None
    else:
        kind = _STATEMENTS.get(type(node).__name__, f"a {type(node).__name__} statement")
        raise _Skip(f"only parameter assignments are allowed here, found {kind}")
    try:
        default = ast.literal_eval(value_node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise _Skip(f"the default of '{name}' is not a plain literal "
                    f"({ast.unparse(value_node)[:40]})") from None
    if not is_plain_data(default):
        raise _Skip(f"the default of '{name}' is not plain data (str, int, float, bool, None, "
                    f"list, dict)")
    if annotation is not None:
        ptype, typed = _annotation_type(annotation, name), True
    else:
        ptype, typed = _literal_type(default), default is not None
    if not ptype.accepts(default):
        raise _Skip(f"the default of '{name}' ({default!r}) is not a {ptype}")
    end = getattr(node, "end_lineno", None) or node.lineno
    help_text, secret = _secret_mark(comments.get(end))
    return Parameter(name=name, type=ptype, default=default, help=help_text,
                     line=node.lineno, typed=typed, secret=secret)


def _secret_mark(comment: str | None) -> tuple[str | None, bool]:
    """The help text without ``nbprod: secret``, and whether the mark was there."""
    if comment is None or not _SECRET_MARK.search(comment):
        return comment, False
    return _SECRET_MARK.sub(" ", comment).strip(" ;,") or None, True


def _annotation_type(node: ast.expr, name: str) -> ParamType:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            raise _Skip(f"the annotation of '{name}' is not valid Python") from None
    if isinstance(node, ast.Constant) and node.value is None:
        return ParamType("any", optional=True)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([node.left, node.right], name)
    if isinstance(node, ast.Name) and node.id in _BASES:
        base = _BASES[node.id]
        return ParamType(base, optional=base == "any")
    if isinstance(node, ast.Attribute) and node.attr in _BASES and \
            isinstance(node.value, ast.Name) and node.value.id == "typing":
        return _annotation_type(ast.Name(id=node.attr), name)
    if isinstance(node, ast.Subscript):
        head = node.value.id if isinstance(node.value, ast.Name) else (
            node.value.attr if isinstance(node.value, ast.Attribute) else "")
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if head == "Optional" and len(args) == 1:
            inner = _annotation_type(args[0], name)
            return ParamType(inner.base, optional=True, item=inner.item)
        if head == "Union":
            return _union(args, name)
        if head in ("list", "List") and len(args) == 1:
            return ParamType("list", item=_annotation_type(args[0], name))
        if head in ("dict", "Dict") and len(args) == 2:
            key = _annotation_type(args[0], name)
            if key.base != "str":
                raise _Skip(f"the annotation of '{name}': dict keys must be str")
            return ParamType("dict", item=_annotation_type(args[1], name))
    raise _Skip(f"the annotation of '{name}' ({ast.unparse(node)}) is not a plain data type "
                f"(int, float, str, bool, list[...], dict[str, ...], or X | None)")


def _union(members: list[ast.expr], name: str) -> ParamType:
    non_none = [_annotation_type(m, name) for m in members if not _is_none(m)]
    if len(non_none) != 1:
        raise _Skip(f"the annotation of '{name}' mixes types; use one type, optionally | None")
    inner = non_none[0]
    return ParamType(inner.base, optional=len(non_none) < len(members) or inner.optional,
                     item=inner.item)


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _literal_type(value: Any) -> ParamType:
    if value is None:
        return ANY
    for base, kind in (("bool", bool), ("int", int), ("float", float), ("str", str),
                       ("list", list), ("dict", dict)):
        if isinstance(value, kind):
            return ParamType(base)
    return ANY


def is_plain_data(value: Any, depth: int = 0) -> bool:
    """str, int, float (finite), bool, None, and lists / str-keyed dicts of those."""
    if depth > 20:
        return False
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, list):
        return all(is_plain_data(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain_data(v, depth + 1) for k, v in value.items())
    return False


def _trailing_comments(source: str) -> dict[int, str]:
    """Map line number -> the comment ending that line (the parameter's help)."""
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                text = token.string.lstrip("#").strip()
                if text and token.line[: token.start[1]].strip():
                    comments[token.start[0]] = text
    except (tokenize.TokenError, IndentationError):
        pass
    return comments
