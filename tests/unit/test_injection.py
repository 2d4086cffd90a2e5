"""The injected parameters cell: exact round-trip of plain data, and its place in the notebook."""

from __future__ import annotations

import ast
import copy
import keyword
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbprod.errors import ParameterError
from nbprod.notebook import Notebook, inject_parameters, injection_source
from nbprod.notebook.injection import HEADER

from .helpers import code, markdown, same_typed

INJECTED = "injected-parameters"

plain_data = st.recursive(
    st.none() | st.booleans() | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=25,
)
names = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n))


_same = same_typed


def _run(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    namespace.pop("__builtins__")
    return namespace


@settings(max_examples=200, deadline=None, database=None)
@given(st.dictionaries(names, plain_data, max_size=6))
def test_injection_source_round_trips_plain_data(parameters: dict[str, Any]) -> None:
    source = injection_source(parameters)

    assert source.startswith(HEADER + "\n")
    namespace = _run(source)
    assert list(namespace) == list(parameters)
    for name, value in parameters.items():
        assert _same(namespace[name], value), name


@settings(max_examples=100, deadline=None, database=None)
@given(st.text())
def test_any_string_value_round_trips_as_one_literal(text: str) -> None:
    source = injection_source({"value": text})

    tree = ast.parse(source)
    assert len(tree.body) == 1
    assert isinstance(tree.body[0], ast.Assign)
    assert isinstance(tree.body[0].value, ast.Constant)
    assert _run(source) == {"value": text}


CRAFTED = [
    "x'); import os; os.system('echo pwned",
    "\n__import__('os')",
    '"""; import os; """',
    "'''\nimport os\n'''",
    "\\",
    "\\'",
    "\r\nimport os",
    "\u2028import os",
    "\x00",
    "# comment",
    "{0.__class__}",
    "\ud800",
]


@pytest.mark.parametrize("value", CRAFTED)
def test_crafted_strings_are_values_and_nothing_executes(value: str) -> None:
    source = injection_source({"label": value, "items": [value], "table": {value: value}})

    tree = ast.parse(source)
    assert [type(node) for node in tree.body] == [ast.Assign] * 3
    nodes = list(ast.walk(tree))
    assert not [n for n in nodes if isinstance(n, ast.Call | ast.Import | ast.Attribute)]
    assert [n.id for n in nodes if isinstance(n, ast.Name)] == ["label", "items", "table"]
    namespace = _run(source)
    assert namespace == {"label": value, "items": [value], "table": {value: value}}
    assert "os" not in namespace


@pytest.mark.parametrize("name", ["x = 1\nimport os\ny", "a; import os; b", "a.b", "x: int",
                                  "a = b", "# ", "os.system('id') or x", "x[0]"])
def test_names_that_would_smuggle_code_are_refused(name: str) -> None:
    with pytest.raises(ParameterError) as info:
        injection_source({name: 1})

    message = info.value.one_line()
    assert message.startswith(("parameters do not round-trip", f"parameter {name!r} does not",
                               "parameters cannot be written as Python literals"))


@pytest.mark.parametrize("value", [math.nan, [math.nan], {"a": math.nan}])
def test_values_that_do_not_round_trip_are_refused(value: Any) -> None:
    with pytest.raises(ParameterError) as info:
        injection_source({"x": value})

    assert info.value.parameter == "x"
    assert info.value.one_line() == \
        "parameter 'x' does not round-trip as a Python literal; refusing to inject it"


def test_bool_int_and_float_keep_their_types() -> None:
    namespace = _run(injection_source({"a": True, "b": 1, "c": 1.0, "d": -0.0, "e": 10 ** 30}))

    assert _same(namespace, {"a": True, "b": 1, "c": 1.0, "d": -0.0, "e": 10 ** 30})


# -- inject_parameters -----------------------------------------------------------------


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def test_injected_cell_goes_right_after_the_parameters_cell(
        notebook_with: Callable[..., Notebook]) -> None:
    notebook = notebook_with(markdown("# t"), code("import os"),
                             code("alpha: float = 0.5", "parameters"), code("print(alpha)"),
                             code("done = True"))

    injected = inject_parameters(notebook, {"alpha": 0.1, "name": "x"})

    cells = injected.node.cells
    assert len(cells) == 6
    assert injected.injected_index == 3
    assert _tags(cells[3]) == [INJECTED]
    assert cells[3].cell_type == "code"
    assert _run(cells[3].source) == {"alpha": 0.1, "name": "x"}
    assert [c.source for i, c in enumerate(cells) if i != 3] == \
        [c.source for c in notebook.cells]
    assert injected.node.metadata["papermill"]["parameters"] == {"alpha": 0.1, "name": "x"}


def test_source_index_maps_output_cells_back_to_input_cells(
        notebook_with: Callable[..., Notebook]) -> None:
    notebook = notebook_with(markdown("# t"), code("x = 1", "parameters"), code("y = x"),
                             code("z = y"))

    injected = inject_parameters(notebook, {"x": 2})

    assert injected.source_index == (0, 1, 1, 2, 3)
    assert injected.input_index(2) == 1  # a failure in the injected cell is the parameters'
    assert injected.input_index(4) == 3
    assert injected.input_index(5) is None
    assert injected.input_index(-1) is None
    assert injected.input_index(None) is None
    for output, source in enumerate(injected.source_index):
        if output != injected.injected_index:
            assert injected.node.cells[output].source == notebook.cells[source].source


def test_without_parameters_nothing_is_injected(
        notebook_with: Callable[..., Notebook]) -> None:
    notebook = notebook_with(code("x = 1", "parameters"), code("y = x"))

    injected = inject_parameters(notebook, {})

    assert injected.injected_index is None
    assert injected.source_index == (0, 1)
    assert [c.source for c in injected.node.cells] == ["x = 1", "y = x"]
    assert not any(INJECTED in _tags(c) for c in injected.node.cells)


def test_without_parameters_cell_the_injected_cell_goes_first(
        notebook_with: Callable[..., Notebook]) -> None:
    notebook = notebook_with(code("a = 1"), code("b = 2"))

    injected = inject_parameters(notebook, {"x": 1})

    assert injected.injected_index == 0
    assert _tags(injected.node.cells[0]) == [INJECTED]
    assert injected.source_index == (None, 0, 1)
    assert injected.input_index(0) is None


def test_injection_leaves_the_input_notebook_untouched(
        notebook_with: Callable[..., Notebook]) -> None:
    notebook = notebook_with(code("x = 1", "parameters"), code("y = x"))
    before = copy.deepcopy(notebook.node)

    inject_parameters(notebook, {"x": 2})

    assert notebook.node == before


def test_injecting_a_smuggling_name_is_refused(notebook_with: Callable[..., Notebook]) -> None:
    notebook = notebook_with(code("x = 1", "parameters"))

    with pytest.raises(ParameterError):
        inject_parameters(notebook, {"x = 1\nimport os\ny": 1})


def test_a_stale_injected_cell_does_not_override_the_new_parameters(
        notebook_with: Callable[..., Notebook]) -> None:
    notebook = notebook_with(code("x = 1", "parameters"),
                             code("# Parameters injected earlier\nx = 3", INJECTED),
                             code("y = x"))

    injected = inject_parameters(notebook, {"x": 5})

    namespace: dict[str, Any] = {}
    for cell in injected.node.cells:
        exec(cell.source, namespace)
    assert namespace["y"] == 5
    assert sum(INJECTED in _tags(c) for c in injected.node.cells) == 1
