"""The parameter contract parsed from the ``parameters`` cell."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nbprod.errors import EXIT_INVALID_INPUT, NotebookInvalid
from nbprod.notebook import (
    ContractError,
    Notebook,
    Parameter,
    ParameterContract,
    contract_of,
    parse_contract,
)

from .helpers import code, markdown


def _contract(source: str, *, strict: bool = True) -> ParameterContract:
    return parse_contract(source, cell_index=3, path="nb.ipynb", strict=strict)


def _one(source: str) -> Parameter:
    contract = _contract(source)
    assert len(contract.parameters) == 1
    return contract.parameters[0]


@pytest.mark.parametrize(("source", "shown", "default"), [
    ("n: int = 5", "int", 5),
    ("alpha: float = 0.5", "float", 0.5),
    ("alpha: float = 1", "float", 1),
    ("name: str = 'a'", "str", "a"),
    ("flag: bool = False", "bool", False),
    ("ids: list[int] = [1, 2]", "list[int]", [1, 2]),
    ("ids: List[int] = []", "list[int]", []),
    ("weights: dict[str, float] = {'a': 0.5}", "dict[str, float]", {"a": 0.5}),
    ("weights: Dict[str, int] = {}", "dict[str, int]", {}),
    ("limit: int | None = None", "int | None", None),
    ("limit: None | int = 3", "int | None", 3),
    ("label: Optional[str] = None", "str | None", None),
    ("label: typing.Optional[str] = 'x'", "str | None", "x"),
    ("label: Union[str, None] = None", "str | None", None),
    ("n: 'int' = 5", "int", 5),
    ("n: \"int | None\" = None", "int | None", None),
    ("grid: list[list[float]] = [[1.0]]", "list[list[float]]", [[1.0]]),
    ("anything: Any = None", "any", None),
    ("opts: Optional[dict[str, list[int]]] = None", "dict[str, list[int]] | None", None),
])
def test_annotations(source: str, shown: str, default: Any) -> None:
    parameter = _one(source)

    assert str(parameter.type) == shown
    assert parameter.default == default
    assert parameter.typed is True
    assert parameter.type.accepts(default)


@pytest.mark.parametrize(("source", "shown", "typed"), [
    ("x = 5", "int", True),
    ("x = -5", "int", True),
    ("x = 0.5", "float", True),
    ("x = 'a'", "str", True),
    ("x = True", "bool", True),
    ("x = [1, 'a']", "list", True),
    ("x = {'a': 1}", "dict", True),
    ("y = None", "any", False),
])
def test_literal_typing(source: str, shown: str, typed: bool) -> None:
    parameter = _one(source)

    assert str(parameter.type) == shown
    assert parameter.typed is typed


def test_untyped_none_accepts_anything() -> None:
    ptype = _one("y = None").type

    assert all(ptype.accepts(v) for v in (None, 1, "a", [1], {"a": 1}, True))


def test_literal_int_is_not_a_bool_and_bool_is_not_an_int() -> None:
    assert not _one("x = 5").type.accepts(True)
    assert not _one("x = True").type.accepts(1)


def test_help_comes_from_trailing_comments_and_lines_are_recorded() -> None:
    contract = _contract(
        "# Parameters of the model\n"
        "alpha: float = 0.5  # regularisation strength\n"
        "\n"
        "n = 10\n"
        "ids = [\n"
        "    1,\n"
        "    2,\n"
        "]  # the ids to keep\n"
        "name = '# not a comment'\n"
        "empty = 1  #\n"
    )

    assert contract.names == ["alpha", "n", "ids", "name", "empty"]
    helps = {p.name: p.help for p in contract.parameters}
    assert helps == {"alpha": "regularisation strength", "n": None, "ids": "the ids to keep",
                     "name": None, "empty": None}
    assert contract.get("name") is not None
    assert contract.get("name").default == "# not a comment"  # type: ignore[union-attr]
    assert [p.line for p in contract.parameters] == [2, 4, 5, 9, 10]
    assert contract.cell_index == 3


def test_magics_and_shell_lines_are_ignored() -> None:
    contract = _contract("%load_ext autoreload\n!pip list\nx = 1\n  %time y = 2\nz = 3  # zed\n")

    assert contract.names == ["x", "z"]
    assert contract.get("z").help == "zed"  # type: ignore[union-attr]
    assert contract.get("z").line == 5  # type: ignore[union-attr]


def test_percent_line_inside_a_string_default_is_kept() -> None:
    parameter = _one('fmt = """\n%d items\n"""\n')

    assert parameter.default == "\n%d items\n"


def test_contract_json_shape() -> None:
    contract = _contract("alpha: float = 0.5  # strength\nlimit: int | None = None\n")

    assert contract.to_json() == [
        {"name": "alpha", "type": "float", "default": 0.5, "help": "strength", "typed": True},
        {"name": "limit", "type": "int | None", "default": None, "help": None, "typed": True},
    ]


@pytest.mark.parametrize(("source", "line", "says"), [
    ("import os\nx = 1", 1, "found an import"),
    ("x = 1\nfrom pathlib import Path", 2, "found an import"),
    ("x = len('abc')", 1, "the default of 'x' is not a plain literal (len('abc'))"),
    ("x = 1\nprint(x)", 2, "found an expression"),
    ("a = b = 1", 1, "assign one name per line"),
    ("a, b = 1, 2", 1, "assign one name per line"),
    ("x.y = 1", 1, "assign one name per line"),
    ("x += 1", 1, "found an augmented assignment (+=)"),
    ("x: int", 1, "annotated parameters need a name and a default value"),
    ("path: Path = 'data.csv'", 1, "the annotation of 'path' (Path) is not a plain data type"),
    ("x: int | str = 1", 1, "mixes types"),
    ("x: dict[int, str] = {}", 1, "dict keys must be str"),
    ("x: 'in t' = 1", 1, "the annotation of 'x' is not valid Python"),
    ("n: int = 'five'", 1, "the default of 'n' ('five') is not a int"),
    ("n: int = True", 1, "the default of 'n' (True) is not a int"),
    ("n: int = None", 1, "the default of 'n' (None) is not a int"),
    ("ids: list[int] = [1, 'a']", 1, "is not a list[int]"),
    ("x = (1, 2)", 1, "the default of 'x' is not plain data"),
    ("x = {1, 2}", 1, "the default of 'x' is not plain data"),
    ("x = b'raw'", 1, "the default of 'x' is not plain data"),
    ("x = {1: 'a'}", 1, "the default of 'x' is not plain data"),
    ("x = 1e400", 1, "the default of 'x' is not plain data"),
    ("if True:\n    x = 1", 1, "found an if statement"),
])
def test_strict_refuses_what_is_not_a_plain_declaration(source: str, line: int,
                                                        says: str) -> None:
    with pytest.raises(ContractError) as info:
        _contract(source)

    message = info.value.one_line()
    assert message.startswith(f"nb.ipynb: parameters cell (cell 3) line {line}: ")
    assert says in message
    assert "--no-strict" in message
    assert isinstance(info.value, NotebookInvalid)
    assert info.value.exit_code == EXIT_INVALID_INPUT


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ContractError) as info:
        _contract("x = 1\ny = 2\nx: int = 3\n")

    assert info.value.one_line() == \
        "nb.ipynb: parameters cell (cell 3) line 3: parameter 'x' is declared twice"


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(ContractError) as info:
        _contract("x = 1\ny = = 2\n")

    message = info.value.one_line()
    assert message.startswith("nb.ipynb: parameters cell (cell 3) line 2: syntax error")


def test_non_strict_skips_what_it_cannot_read() -> None:
    contract = _contract(
        "import os\n"
        "x: int = 1\n"
        "data_dir = os.path.join('a', 'b')\n"
        "a = b = 2\n"
        "c, d = 3, 4\n"
        "path: Path = 'x.csv'\n"
        "n: int = 'five'\n"
        "y = 'kept'  # help\n",
        strict=False,
    )

    assert contract.names == ["x", "y"]
    assert contract.get("y").help == "help"  # type: ignore[union-attr]


def test_empty_and_comment_only_cells_declare_nothing() -> None:
    assert _contract("").parameters == ()
    assert _contract("# nothing here\n\n").parameters == ()


# -- contract_of: the notebook's parameters cell ---------------------------------------


def test_contract_of_reads_the_tagged_cell(notebook_with: Callable[..., Notebook]) -> None:
    notebook = notebook_with(markdown("# t"), code("import os"),
                             code("alpha: float = 0.5  # a", "setup", "parameters"),
                             code("print(alpha)"))

    contract = contract_of(notebook)

    assert contract.cell_index == 2
    assert contract.names == ["alpha"]


def test_contract_of_without_parameters_cell_is_empty(
        notebook_with: Callable[..., Notebook]) -> None:
    contract = contract_of(notebook_with(code("x = 1")))

    assert contract.cell_index is None
    assert contract.parameters == ()


def test_several_parameters_cells_are_an_error_in_strict(
        notebook_with: Callable[..., Notebook]) -> None:
    notebook = notebook_with(code("x = 1", "parameters"), code("y = 2"),
                             code("z = 3", "parameters"))

    with pytest.raises(ContractError) as info:
        contract_of(notebook)

    message = info.value.one_line()
    assert message.startswith(f"{notebook.path}: cells 0, 2 are all tagged 'parameters'")
    assert "keep the tag on one cell" in message


def test_several_parameters_cells_use_the_first_without_strict(
        notebook_with: Callable[..., Notebook]) -> None:
    notebook = notebook_with(code("x = 1", "parameters"), code("z = 3", "parameters"))

    contract = contract_of(notebook, strict=False)

    assert contract.cell_index == 0
    assert contract.names == ["x"]


def test_contract_of_error_names_the_notebook_file(
        notebook_with: Callable[..., Notebook]) -> None:
    notebook = notebook_with(code("x = 1"), code("import os\nx = 1", "parameters"))

    with pytest.raises(ContractError) as info:
        contract_of(notebook)

    assert info.value.one_line().startswith(
        f"{notebook.path}: parameters cell (cell 1) line 1: ")
