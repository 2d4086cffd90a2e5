"""The parameter contract: what the ``parameters`` cell promises, parsed with ``ast``.

``alpha: float = 0.5  # regularisation`` becomes ``Parameter(name="alpha", type=float,
default=0.5, help="regularisation")``. The type comes from the annotation, else from the
literal. Only plain data is allowed as a value: str, int, float, bool, None, and lists and dicts
of those (``list[int]``, ``dict[str, float]``, ``int | None``, ``Optional[str]``).

The contract is as strict as the notebook allows, never stricter than papermill: a real
papermill cell may import modules and compute defaults from other names
(``data_dir = os.path.join(base, "data")``). Such a parameter is still a parameter — it can be
set with a plain value, checked against its annotation when it has one — and the other
statements stay in the cell as they are. What the contract refuses is what is really wrong: a
syntax error, and a literal default that does not fit its own annotation (``n: int = "five"``).
Everything else it could not type is an :class:`Advisory`, which ``nbprod lint`` reports.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import NotebookInvalid

_BASES = {"int": "int", "float": "float", "str": "str", "bool": "bool", "list": "list",
          "List": "list", "dict": "dict", "Dict": "dict", "Any": "any", "object": "any"}
# Magics and shell escapes are IPython syntax, not Python; they carry no parameters.
_MAGIC_LINE = re.compile(r"^\s*[%!]")
# Source without string literals, backslashes or line ends other than "\n" (see _comments)
_PLAIN = re.compile(r"[\t\n\x20\x21\x23-\x26\x28-\x5b\x5d-\x7e]*")
# A comment above the first parameter that titles the cell is not that parameter's help.
_CELL_TITLE = re.compile(r"^(default\s+)?(parameters?|params?)(\s+cell)?\s*:?$", re.IGNORECASE)
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
    """One declared parameter.

    ``computed`` holds the source of a default that is not a plain literal
    (``os.path.join(base, "data")``); ``default`` is then None and the notebook computes it
    unless a value is given.
    """

    name: str
    type: ParamType
    default: Any
    help: str | None
    line: int
    typed: bool  # annotated with a plain-data type, or typed by a non-None literal
    computed: str | None = None
    annotated: bool = False  # the type is declared (else inferred from the literal, or any)
    # ``# nbprod: secret``: passed through the kernel's environment, never written anywhere.
    secret: bool = False

    def to_json(self) -> dict[str, Any]:
        data = {"name": self.name, "type": str(self.type), "default": self.default,
                "help": self.help, "typed": self.typed, "annotated": self.annotated,
                "computed": self.computed}
        if self.secret:
            data["secret"] = True
        return data


AdvisoryKind = Literal["computed", "statement", "annotation", "duplicate"]


@dataclass(frozen=True)
class Advisory:
    """Something in the parameters cell the contract accepts but cannot check (lint advice)."""

    kind: AdvisoryKind
    line: int
    message: str
    name: str | None = None  # the parameter it concerns, if any


@dataclass(frozen=True)
class ParameterContract:
    """The parameters of one notebook, in declaration order."""

    cell_index: int | None
    parameters: tuple[Parameter, ...] = ()
    advisories: tuple[Advisory, ...] = ()

    def get(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def to_json(self) -> list[dict[str, Any]]:
        return [p.to_json() for p in self.parameters]


class ContractError(NotebookInvalid):
    """The parameters cell cannot be read (syntax) or contradicts itself (mistyped literal)."""


def parse_contract(source: str, *, cell_index: int | None, path: str,
                   strict: bool = True) -> ParameterContract:
    """Parse a parameters cell's source into a contract.

    Imports, expressions and computed defaults are accepted (see the module docstring) and
    reported as advisories. With ``strict``, a literal default that does not fit its
    annotation is a :class:`ContractError`; without, that parameter is untyped, as papermill
    would take it.
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
    reader = _CellReader(python, _comments(python), strict=strict)
    for node in tree.body:
        try:
            reader.read(node)
        except _Mistyped as problem:
            raise ContractError(path, f"{where} line {node.lineno}: {problem}",
                                hint="fix the default or the annotation, or run with "
                                     "--no-strict") from None
    return ParameterContract(cell_index=cell_index, parameters=tuple(reader.parameters.values()),
                             advisories=tuple(reader.advisories))


_STATEMENTS = {
    "Import": "an import", "ImportFrom": "an import", "Expr": "an expression",
    "AugAssign": "an augmented assignment (+=)", "If": "an if statement",
    "For": "a for loop", "While": "a while loop", "With": "a with block",
    "FunctionDef": "a function definition", "ClassDef": "a class definition",
    "Try": "a try block", "Delete": "a del statement", "Assert": "an assert",
    "Global": "a global statement", "Pass": "a pass statement",
}


class _Mistyped(Exception):
    """A literal default that does not fit its own annotation."""


class _Unknown(Exception):
    """An annotation that is not a plain-data type."""


@dataclass(frozen=True)
class _Comments:
    trailing: dict[int, str]  # line -> the comment ending it
    above: dict[int, str]  # line -> the comment block on the lines right above it


class _CellReader:
    """Turns the statements of a parameters cell into parameters and advisories."""

    def __init__(self, source: str, comments: _Comments, *, strict: bool) -> None:
        self.lines = source.splitlines()
        self.comments = comments
        self.strict = strict
        self.parameters: dict[str, Parameter] = {}
        self.advisories: list[Advisory] = []

    def read(self, node: ast.stmt) -> None:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and node.value is not None:
            self._declare(node, node.target.id, node.value, node.annotation)
        elif isinstance(node, ast.Assign):
            self._assign(node)
        elif isinstance(node, ast.AnnAssign):
            self._advise("statement", node, "an annotation without a value declares no "
                         "parameter; give it a default")
        else:
            kind = _STATEMENTS.get(type(node).__name__, f"a {type(node).__name__} statement")
            self._advise("statement", node, f"{kind} in the parameters cell: it runs before the "
                         "injected values; move it to the next cell")

    def _assign(self, node: ast.Assign) -> None:
        pairs: list[tuple[str, ast.expr | None]] = []
        for target in node.targets:
            if isinstance(target, ast.Name):
                pairs.append((target.id, node.value))
            elif isinstance(target, (ast.Tuple, ast.List)):
                values = node.value.elts if isinstance(node.value, (ast.Tuple, ast.List)) and \
                    len(node.value.elts) == len(target.elts) else None
                for i, element in enumerate(target.elts):
                    if isinstance(element, ast.Name):
                        pairs.append((element.id, values[i] if values else None))
                self._advise("statement", node, "unpacking in the parameters cell: assign one "
                             "name per line so each is typed")
            else:
                self._advise("statement", node, f"assigning to {ast.unparse(target)[:40]} "
                             "declares no parameter; move it to the next cell")
        for name, value in pairs:
            self._declare(node, name, value, None)

    def _declare(self, node: ast.stmt, name: str, value: ast.expr | None,
                 annotation: ast.expr | None) -> None:
        ptype: ParamType | None = None
        if annotation is not None:
            try:
                ptype = _annotation_type(annotation, name)
            except _Unknown as unknown:
                self._advise("annotation", node, f"{unknown}; '{name}' is not type-checked",
                             name)
        literal, default = _literal(value)
        source = "..." if value is None else self._segment(value)
        help_text, secret = self._help(node)
        if not literal:
            self._add(node, Parameter(name=name, type=ptype or ANY, default=None,
                                      help=help_text, line=node.lineno,
                                      typed=ptype is not None, computed=source,
                                      annotated=ptype is not None, secret=secret))
            if ptype is None:
                self._advise("computed", node, f"parameter '{name}' has a computed default "
                             f"({source[:40]}), so a given value cannot be type-checked: "
                             f"annotate it ('{name}: str = ...') or compute it in the next "
                             "cell from a literal parameter", name)
            return
        annotated = ptype is not None
        typed = annotated or default is not None
        if ptype is None:
            ptype = _literal_type(default)
        elif default is None and not ptype.optional:
            ptype = ParamType(ptype.base, optional=True, item=ptype.item)  # PEP 484's rule
        if not ptype.accepts(default):
            if self.strict:
                raise _Mistyped(f"the default of '{name}' ({default!r}) is not a {ptype}")
            ptype, typed, annotated = ANY, False, False
        self._add(node, Parameter(name=name, type=ptype, default=default,
                                  help=help_text, line=node.lineno, typed=typed,
                                  annotated=annotated, secret=secret))

    def _segment(self, node: ast.expr) -> str:
        """The source of ``node`` as written, on one line (ast.get_source_segment splits the
        whole cell on every call)."""
        end_line, end_col = node.end_lineno, node.end_col_offset
        if end_line is None or end_col is None or end_line > len(self.lines):
            return ast.unparse(node)
        lines = self.lines[node.lineno - 1:end_line]
        # col offsets count UTF-8 bytes
        if len(lines) == 1:
            text = lines[0].encode()[node.col_offset:end_col].decode(errors="replace")
        else:
            lines[0] = lines[0].encode()[node.col_offset:].decode(errors="replace")
            lines[-1] = lines[-1].encode()[:end_col].decode(errors="replace")
            text = " ".join(lines)
        return " ".join(text.split())

    def _add(self, node: ast.stmt, parameter: Parameter) -> None:
        earlier = self.parameters.pop(parameter.name, None)
        if earlier is not None:
            self._advise("duplicate", node, f"parameter '{parameter.name}' is assigned again "
                         f"(first on line {earlier.line}); the last assignment is its default",
                         parameter.name)
        self.parameters[parameter.name] = parameter

    def _help(self, node: ast.stmt) -> tuple[str | None, bool]:
        """The parameter's help, and whether it is marked ``nbprod: secret``."""
        end = getattr(node, "end_lineno", None) or node.lineno
        return _secret_mark(self.comments.trailing.get(end) or
                            self.comments.above.get(node.lineno))

    def _advise(self, kind: AdvisoryKind, node: ast.stmt, message: str,
                name: str | None = None) -> None:
        self.advisories.append(Advisory(kind, node.lineno, message, name))


def _literal(node: ast.expr | None) -> tuple[bool, Any]:
    """(whether ``node`` is a plain-data literal, its value)."""
    if node is None:
        return False, None
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None
    return (True, value) if is_plain_data(value) else (False, None)


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
            raise _Unknown(f"the annotation of '{name}' is not valid Python") from None
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
                raise _Unknown(f"the annotation of '{name}': dict keys must be str")
            return ParamType("dict", item=_annotation_type(args[1], name))
    raise _Unknown(f"the annotation of '{name}' ({ast.unparse(node)}) is not a plain data type "
                   f"(int, float, str, bool, list[...], dict[str, ...], or X | None)")


def _union(members: list[ast.expr], name: str) -> ParamType:
    non_none = [_annotation_type(m, name) for m in members if not _is_none(m)]
    if len(non_none) != 1:
        raise _Unknown(f"the annotation of '{name}' mixes types; use one type, optionally "
                       "| None")
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


def _comments(source: str) -> _Comments:
    """Comments ending a line, and comment blocks standing on the lines right above one."""
    trailing: dict[int, str] = {}
    own_line: dict[int, str] = {}
    if _PLAIN.fullmatch(source):
        # No string literal, escape or unusual line end: every '#' starts a comment, as
        # tokenize would find (half of a parameters cell's parse).
        for number, line in enumerate(source.split("\n"), start=1):
            at = line.find("#")
            if at >= 0:
                text = line[at:].lstrip("#").strip()
                if text:
                    (trailing if line[:at].strip() else own_line)[number] = text
        return _comment_blocks(trailing, own_line)
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                text = token.string.lstrip("#").strip()
                if token.line[: token.start[1]].strip():
                    if text:
                        trailing[token.start[0]] = text
                elif text:
                    own_line[token.start[0]] = text
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return _comment_blocks(trailing, own_line)


def _comment_blocks(trailing: dict[int, str], own_line: dict[int, str]) -> _Comments:
    above: dict[int, str] = {}
    for line in own_line:
        if line + 1 in own_line:
            continue  # not the last line of its block
        block: list[str] = []
        first = line
        while first in own_line:
            block.insert(0, own_line[first])
            first -= 1
        block = [text for text in block if not _CELL_TITLE.match(text)]
        if block:
            above[line + 1] = " ".join(block)
    return _Comments(trailing, above)
