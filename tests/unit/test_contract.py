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
        {"name": "alpha", "type": "float", "default": 0.5, "help": "strength", "typed": True,
         "annotated": True, "computed": None},
        {"name": "limit", "type": "int | None", "default": None, "help": None, "typed": True,
         "annotated": True, "computed": None},
    ]


@pytest.mark.parametrize(("source", "line", "says"), [
    ("n: int = 'five'", 1, "the default of 'n' ('five') is not a int"),
    ("n: int = True", 1, "the default of 'n' (True) is not a int"),
    ("x = 1\nids: list[int] = [1, 'a']", 2, "is not a list[int]"),
    ("flag: bool = 0", 1, "the default of 'flag' (0) is not a bool"),
])
def test_strict_refuses_a_literal_that_contradicts_its_annotation(source: str, line: int,
                                                                  says: str) -> None:
    with pytest.raises(ContractError) as info:
        _contract(source)

    message = info.value.one_line()
    assert message.startswith(f"nb.ipynb: parameters cell (cell 3) line {line}: ")
    assert says in message
    assert "--no-strict" in message
    assert isinstance(info.value, NotebookInvalid)
    assert info.value.exit_code == EXIT_INVALID_INPUT


@pytest.mark.parametrize(("source", "names", "kind", "says"), [
    ("import os\nx = 1", ["x"], "statement", "an import in the parameters cell"),
    ("x = 1\nfrom pathlib import Path", ["x"], "statement", "an import"),
    ("x = 1\nprint(x)", ["x"], "statement", "an expression"),
    ("x.y = 1", [], "statement", "assigning to x.y declares no parameter"),
    ("x += 1", [], "statement", "an augmented assignment (+=)"),
    ("x: int", [], "statement", "an annotation without a value"),
    ("if True:\n    x = 1", [], "statement", "an if statement"),
    ("a, b = 1, 2", ["a", "b"], "statement", "unpacking"),
    ("x = len('abc')", ["x"], "computed", "parameter 'x' has a computed default (len('abc'))"),
    ("x = (1, 2)", ["x"], "computed", "computed default ((1, 2))"),
    ("x = {1, 2}", ["x"], "computed", "computed default"),
    ("x = b'raw'", ["x"], "computed", "computed default"),
    ("x = {1: 'a'}", ["x"], "computed", "computed default"),
    ("x = 1e400", ["x"], "computed", "computed default"),
    ("path: Path = 'data.csv'", ["path"], "annotation",
     "the annotation of 'path' (Path) is not a plain data type"),
    ("x: int | str = 1", ["x"], "annotation", "mixes types"),
    ("x: dict[int, str] = {}", ["x"], "annotation", "dict keys must be str"),
    ("x: 'in t' = 1", ["x"], "annotation", "the annotation of 'x' is not valid Python"),
    ("x = 1\ny = 2\nx = 3\n", ["y", "x"], "duplicate",
     "parameter 'x' is assigned again (first on line 1)"),
])
def test_what_papermill_runs_is_read_with_advice(source: str, names: list[str], kind: str,
                                                 says: str) -> None:
    contract = _contract(source)

    assert contract.names == names
    advice = [a for a in contract.advisories if a.kind == kind]
    assert advice, contract.advisories
    assert says in advice[0].message


def test_chained_and_literal_unpacking_declare_typed_parameters() -> None:
    contract = _contract("a = b = 1\nc, d = 'x', 2.5\n")

    assert [(p.name, str(p.type), p.default) for p in contract.parameters] == [
        ("a", "int", 1), ("b", "int", 1), ("c", "str", "x"), ("d", "float", 2.5)]


def test_computed_defaults_are_parameters_typed_by_their_annotation() -> None:
    contract = _contract(
        "import os\n"
        "from tempfile import TemporaryDirectory\n"
        "DEFAULT_SEED = 7\n"
        "SEED = DEFAULT_SEED  # random seed\n"
        "data_dir: str = os.path.join('a', 'b')\n"
        "tmp_dir = TemporaryDirectory()\n")

    assert contract.names == ["DEFAULT_SEED", "SEED", "data_dir", "tmp_dir"]
    seed, data_dir, tmp_dir = (contract.get(n) for n in ("SEED", "data_dir", "tmp_dir"))
    assert seed is not None and seed.computed == "DEFAULT_SEED" and seed.default is None
    assert (str(seed.type), seed.typed, seed.help) == ("any", False, "random seed")
    assert data_dir is not None and (str(data_dir.type), data_dir.typed) == ("str", True)
    assert data_dir.computed == "os.path.join('a', 'b')"
    assert tmp_dir is not None and tmp_dir.computed == "TemporaryDirectory()"
    # advice: two imports, and the computed defaults without an annotation (SEED, tmp_dir)
    assert [(a.kind, a.line) for a in contract.advisories] == [
        ("statement", 1), ("statement", 2), ("computed", 4), ("computed", 6)]


def test_none_default_makes_an_annotation_optional() -> None:
    parameter = _one("start: str = None")

    assert str(parameter.type) == "str | None"
    assert parameter.typed


def test_non_strict_takes_a_mistyped_literal_untyped() -> None:
    contract = _contract("n: int = 'five'\ny = 'kept'  # help\n", strict=False)

    assert contract.names == ["n", "y"]
    n = contract.get("n")
    assert n is not None and (str(n.type), n.typed, n.default) == ("any", False, "five")
    assert contract.get("y").help == "help"  # type: ignore[union-attr]


def test_help_from_a_comment_above_unless_it_titles_the_cell() -> None:
    contract = _contract(
        "# Parameters\n"
        "alpha = 0.1\n"
        "\n"
        "# number of rows to read\n"
        "# (None reads all)\n"
        "limit = None\n"
        "# separated by a blank line\n"
        "\n"
        "beta = 2  # beside wins\n")

    assert [p.help for p in contract.parameters] == [
        None, "number of rows to read (None reads all)", "beside wins"]


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(ContractError) as info:
        _contract("x = 1\ny = = 2\n")

    message = info.value.one_line()
    assert message.startswith("nb.ipynb: parameters cell (cell 3) line 2: syntax error")


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


def test_several_parameters_cells_use_the_first(
        notebook_with: Callable[..., Notebook]) -> None:
    notebook = notebook_with(code("x = 1", "parameters"), code("z = 3", "parameters"))

    for strict in (True, False):
        contract = contract_of(notebook, strict=strict)
        assert contract.cell_index == 0
        assert contract.names == ["x"]


def test_contract_of_error_names_the_notebook_file(
        notebook_with: Callable[..., Notebook]) -> None:
    notebook = notebook_with(code("x = 1"), code("x: int = 'one'", "parameters"))

    with pytest.raises(ContractError) as info:
        contract_of(notebook)

    assert info.value.one_line().startswith(
        f"{notebook.path}: parameters cell (cell 1) line 1: ")


def test_comments_without_string_literals_are_read_as_tokenize_reads_them() -> None:
    """The shortcut for sources with no quotes or backslashes finds the same comments as
    tokenize, on every source that parses (parse_contract reads comments only then)."""
    import ast
    import random
    import re
    import warnings

    from nbprod.notebook import contract

    def by_tokenize(source: str) -> object:
        plain = contract._PLAIN
        contract._PLAIN = re.compile(r"(?!)")  # matches nothing: the tokenize path
        try:
            return contract._comments(source)
        finally:
            contract._PLAIN = plain

    pieces = ["a = 1", "x: int = 2", "  ", "\t", "\n", "# note", "#", "## params",
              "# parameters", "(", ")", "[1,", "2]", "#x#y", " #  t ", "b=3 # c", "if a:",
              "\n    pass", "# nbprod: secret"]
    rng = random.Random(5)
    compared = 0
    for _ in range(30_000):
        source = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SyntaxWarning)  # "2]if a:": 2if
                ast.parse(source)
        except SyntaxError:
            continue
        assert contract._PLAIN.fullmatch(source)
        assert contract._comments(source) == by_tokenize(source), repr(source)
        compared += 1
    assert compared > 1000
