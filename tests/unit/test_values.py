"""Checking and coercing the parameters a user gives (``-p NAME VALUE`` and ``-f file``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nbprod.errors import EXIT_INVALID_INPUT, ParameterError
from nbprod.notebook import (
    GivenValue,
    Notebook,
    ParameterContract,
    contract_of,
    parse_contract,
    read_parameter_file,
    resolve_parameters,
)
from nbprod.notebook.values import coerce_string

from .helpers import code, same_typed

CELL = """\
n: int = 10
alpha: float = 0.5
flag: bool = False
name: str = "x"
ids: list[int] = [1]
weights: dict[str, float] = {}
tags: list[str] = []
counts: dict[str, int] = {}
limit: int | None = None
label: Optional[str] = None
anything = None
"""


@pytest.fixture
def contract() -> ParameterContract:
    return parse_contract(CELL, cell_index=1, path="nb.ipynb")


def _cli(contract: ParameterContract, name: str, text: str, *, strict: bool = True) -> Any:
    resolved = resolve_parameters(contract, {name: GivenValue(text, source="-p", raw=True)},
                                  strict=strict)
    return resolved[name]


def _from_file(contract: ParameterContract, name: str, value: Any) -> Any:
    given = {name: GivenValue(value, source="params.yaml")}
    return resolve_parameters(contract, given)[name]


_same = same_typed


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("n", "50", 50),
    ("n", "-3", -3),
    ("n", " 7 ", 7),
    ("n", "1_000", 1000),
    ("alpha", "0.3", 0.3),
    ("alpha", "1", 1.0),
    ("alpha", "-2e-3", -0.002),
    ("flag", "true", True),
    ("flag", "True", True),
    ("flag", "yes", True),
    ("flag", "on", True),
    ("flag", "1", True),
    ("flag", "false", False),
    ("flag", "No", False),
    ("flag", "off", False),
    ("flag", "0", False),
    ("name", "hello world", "hello world"),
    ("name", "50", "50"),
    ("name", "true", "true"),
    ("name", "  padded ", "  padded "),
    ("name", "2024-01-31", "2024-01-31"),
    ("ids", "[1, 2]", [1, 2]),
    ("ids", "[]", []),
    ("tags", "[a, 'b c']", ["a", "b c"]),
    ("weights", '{"a": 0.5}', {"a": 0.5}),
    ("counts", '{"a": 1}', {"a": 1}),
    ("limit", "none", None),
    ("limit", "null", None),
    ("limit", "None", None),
    ("limit", "5", 5),
    ("label", "null", None),
    ("label", "text", "text"),
    ("anything", "1.5", 1.5),
    ("anything", "hello", "hello"),
    ("anything", "[1, a]", [1, "a"]),
])
def test_cli_strings_are_coerced_by_declared_type(contract: ParameterContract, name: str,
                                                  text: str, expected: Any) -> None:
    assert _same(_cli(contract, name, text), expected)


@pytest.mark.parametrize(("name", "text", "shown"), [
    ("n", "abc", "int"),
    ("n", "1.5", "int"),
    ("n", "true", "int"),
    ("n", "", "int"),
    ("n", "1__0", "int"),
    ("n", "none", "int"),
    ("alpha", "fast", "float"),
    ("alpha", "nan", "float"),
    ("alpha", "inf", "float"),
    ("alpha", "-Infinity", "float"),
    ("alpha", "1e999", "float"),
    ("flag", "maybe", "bool"),
    ("flag", "2", "bool"),
    ("ids", "[1, a]", "list[int]"),
    ("ids", "1, 2", "list[int]"),
    ("ids", "[1, 2", "list[int]"),
    ("weights", '{"a": "x"}', "dict[str, float]"),
    ("weights", "[1]", "dict[str, float]"),
    ("counts", "{1: 2}", "dict[str, int]"),
    ("limit", "many", "int | None"),
])
def test_mistyped_cli_value_names_parameter_type_value_and_source(
        contract: ParameterContract, name: str, text: str, shown: str) -> None:
    with pytest.raises(ParameterError) as info:
        _cli(contract, name, text)

    error = info.value
    assert error.parameter == name
    assert error.exit_code == EXIT_INVALID_INPUT
    assert error.one_line() == f"parameter '{name}' expects {shown}, got {text!r} (from -p)"


def test_long_mistyped_value_is_shortened(contract: ParameterContract) -> None:
    with pytest.raises(ParameterError) as info:
        _cli(contract, "n", "x" * 500)

    assert f"got {'x' * 60!r} (from -p)" in info.value.one_line()


def test_unsafe_yaml_tag_in_cli_value_is_refused(contract: ParameterContract,
                                                 tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"!!python/object/apply:os.system ['touch {marker}']"

    with pytest.raises(ParameterError) as info:
        _cli(contract, "anything", text)

    assert info.value.parameter == "anything"
    assert not marker.exists()


@pytest.mark.parametrize("text", ["!!binary aGVsbG8=", "!!set {a, b}", ".nan", "[.inf]"])
def test_cli_value_that_yaml_reads_as_non_plain_data_is_refused(
        contract: ParameterContract, text: str) -> None:
    with pytest.raises(ParameterError) as info:
        _cli(contract, "anything", text)

    assert "parameter 'anything' (from -p)" in info.value.one_line()
    assert "is not plain data" in info.value.one_line()


@pytest.mark.parametrize(("source", "name", "text", "expected"), [
    ("w: list[float] = []", "w", "[1, 2]", [1.0, 2.0]),
    ("w: dict[str, float] = {}", "w", '{"a": 1}', {"a": 1.0}),
])
def test_ints_inside_float_containers_become_floats(source: str, name: str, text: str,
                                                   expected: Any) -> None:
    contract = parse_contract(source, cell_index=0, path="nb.ipynb")

    assert _same(_cli(contract, name, text), expected)


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("ids", "[010, 020]", [10, 20]),
    ("tags", "[10:30, 11:45]", ["10:30", "11:45"]),
])
def test_list_items_are_read_as_written(contract: ParameterContract, name: str, text: str,
                                        expected: Any) -> None:
    assert _cli(contract, name, text) == expected


def test_int_from_a_file_for_a_float_parameter_becomes_float(
        contract: ParameterContract) -> None:
    assert _same(_from_file(contract, "alpha", 2), 2.0)


@pytest.mark.parametrize(("name", "value", "shown"), [
    ("n", True, "int"),
    ("n", 1.0, "int"),
    ("n", "5", "int"),
    ("alpha", False, "float"),
    ("flag", 1, "bool"),
    ("name", 5, "str"),
    ("ids", [1, True], "list[int]"),
    ("ids", (1, 2), "list[int]"),
    ("limit", "5", "int | None"),
])
def test_mistyped_file_value_is_refused(contract: ParameterContract, name: str, value: Any,
                                        shown: str) -> None:
    with pytest.raises(ParameterError) as info:
        _from_file(contract, name, value)

    message = info.value.one_line()
    assert message.startswith(f"parameter '{name}' ")
    assert "(from params.yaml)" in message
    if "not plain data" not in message:
        assert message == f"parameter '{name}' expects {shown}, got {value!r} (from params.yaml)"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, [1.0, math.nan],
                                   {"a": math.inf}])
def test_nan_and_inf_are_refused(contract: ParameterContract, value: Any) -> None:
    with pytest.raises(ParameterError) as info:
        _from_file(contract, "anything", value)

    assert "not plain data" in info.value.one_line()
    assert "float (finite)" in info.value.one_line()


def test_unknown_name_suggests_the_closest(contract: ParameterContract) -> None:
    with pytest.raises(ParameterError) as info:
        _cli(contract, "aplha", "0.1")

    assert info.value.parameter == "aplha"
    assert info.value.one_line() == "unknown parameter 'aplha' (from -p); did you mean 'alpha'?"


def test_unknown_name_without_a_close_match_lists_the_declared_names(
        contract: ParameterContract) -> None:
    with pytest.raises(ParameterError) as info:
        _cli(contract, "zzzzzz", "1")

    assert "the notebook declares: n, alpha, flag, name" in info.value.one_line()


def test_parameter_for_a_notebook_without_parameters_cell(
        notebook_with: Callable[..., Notebook]) -> None:
    contract = contract_of(notebook_with(code("x = 1"), code("print(x)")))

    with pytest.raises(ParameterError) as info:
        resolve_parameters(contract, {"x": GivenValue("1", source="-p", raw=True)})

    message = info.value.one_line()
    assert info.value.parameter == "x"
    assert message.startswith("parameter 'x' (from -p): the notebook has no cell tagged "
                              "'parameters'; ")
    assert "--no-strict" in message


def test_notebook_without_parameters_cell_runs_with_nothing_given(
        notebook_with: Callable[..., Notebook]) -> None:
    contract = contract_of(notebook_with(code("x = 1")))

    assert resolve_parameters(contract, {}) == {}


@pytest.mark.parametrize("name", ["1x", "class", "a-b", "__import__", "__class__", "a b", "",
                                  "x.y", "None"])
@pytest.mark.parametrize("strict", [True, False])
def test_invalid_names_are_refused(contract: ParameterContract, name: str,
                                   strict: bool) -> None:
    with pytest.raises(ParameterError) as info:
        _cli(contract, name, "1", strict=strict)

    assert info.value.parameter == name
    assert info.value.one_line().startswith(
        f"parameter name {name!r} (from -p) is not a valid Python identifier")


@pytest.mark.parametrize(("text", "expected"), [
    ("True", True),
    ("False", False),
    ("None", None),
    ("5", 5),
    ("-5", -5),
    ("1.5", 1.5),
    ("abc", "abc"),
    ("true", "true"),
    ("[1, 2]", "[1, 2]"),
    ("2024-01-31", "2024-01-31"),
])
def test_non_strict_unknown_names_get_papermills_typing(contract: ParameterContract,
                                                        text: str, expected: Any) -> None:
    assert _same(_cli(contract, "extra", text, strict=False), expected)


@pytest.mark.parametrize("text", ["null", "none", "~"])
def test_non_strict_unknown_names_keep_null_like_words_as_strings(
        contract: ParameterContract, text: str) -> None:
    assert _cli(contract, "extra", text, strict=False) == text


def test_non_strict_still_checks_declared_parameters(contract: ParameterContract) -> None:
    with pytest.raises(ParameterError):
        _cli(contract, "n", "abc", strict=False)


def test_several_values_resolve_together(contract: ParameterContract) -> None:
    resolved = resolve_parameters(contract, {
        "n": GivenValue("3", source="-p", raw=True),
        "alpha": GivenValue(1, source="params.yaml"),
        "ids": GivenValue([4, 5], source="params.yaml"),
    })

    assert _same(resolved, {"n": 3, "alpha": 1.0, "ids": [4, 5]})


def test_coerce_string_directly() -> None:
    ptype = parse_contract("x: float = 0.5", cell_index=0, path="p").parameters[0].type

    assert coerce_string("2", ptype, "x", "-p") == 2.0


# -- read_parameter_file ----------------------------------------------------------------


def _yaml(tmp_path: Path, text: str, name: str = "params.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_parameter_file_values_keep_their_types(tmp_path: Path) -> None:
    path = _yaml(tmp_path, "n: 5\nalpha: 0.5\nflag: true\nname: hello\nids: [1, 2]\n"
                           "weights: {a: 1.5}\nlimit: null\n")

    given = read_parameter_file(path)

    assert {k: v.value for k, v in given.items()} == {
        "n": 5, "alpha": 0.5, "flag": True, "name": "hello", "ids": [1, 2],
        "weights": {"a": 1.5}, "limit": None}
    assert all(v.source == str(path) and not v.raw for v in given.values())


def test_parameter_file_dates_stay_strings(tmp_path: Path) -> None:
    path = _yaml(tmp_path, "day: 2024-01-31\nwhen: 2024-01-31 10:00:00\n")

    given = read_parameter_file(path)

    assert given["day"].value == "2024-01-31"
    assert given["when"].value == "2024-01-31 10:00:00"


def test_parameter_file_refuses_python_tags(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = _yaml(tmp_path, f"x: !!python/object/apply:os.system ['touch {marker}']\n")

    with pytest.raises(ParameterError) as info:
        read_parameter_file(path)

    assert info.value.one_line().startswith(f"{path} line 1: not valid YAML")
    assert not marker.exists()


@pytest.mark.parametrize(("text", "kind"), [("- 1\n- 2\n", "list"), ("just text\n", "str"),
                                            ("5\n", "int")])
def test_parameter_file_must_be_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    path = _yaml(tmp_path, text)

    with pytest.raises(ParameterError) as info:
        read_parameter_file(path)

    assert info.value.one_line() == \
        f"{path}: must be a mapping of parameter names to values, got {kind}"


def test_bad_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = _yaml(tmp_path, "a: 1\nb: 2\nc: [1, 2\nd: 4\n")

    with pytest.raises(ParameterError) as info:
        read_parameter_file(path)

    message = info.value.one_line()
    assert message.startswith(f"{path} line ")
    assert "not valid YAML" in message
    line = int(message.removeprefix(f"{path} line ").split(":")[0])
    assert 3 <= line <= 5


def test_empty_parameter_file_gives_nothing(tmp_path: Path) -> None:
    assert read_parameter_file(_yaml(tmp_path, "# only a comment\n")) == {}


def test_missing_parameter_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"

    with pytest.raises(ParameterError) as info:
        read_parameter_file(path)

    assert info.value.one_line() == \
        f"cannot read parameter file {path}: No such file or directory"


def test_file_values_then_resolve_report_the_file(tmp_path: Path,
                                                  contract: ParameterContract) -> None:
    path = _yaml(tmp_path, "n: 1.5\n")

    with pytest.raises(ParameterError) as info:
        resolve_parameters(contract, read_parameter_file(path))

    assert info.value.one_line() == f"parameter 'n' expects int, got 1.5 (from {path})"


def test_non_identifier_key_in_file_is_refused_naming_the_file(
        tmp_path: Path, contract: ParameterContract) -> None:
    path = _yaml(tmp_path, "1: x\n")

    with pytest.raises(ParameterError) as info:
        resolve_parameters(contract, read_parameter_file(path))

    assert info.value.one_line().startswith(f"parameter name '1' (from {path})")


@pytest.mark.parametrize("key", ["on", "off", "yes", "no"])
def test_yaml_keys_that_look_like_booleans_stay_names(tmp_path: Path, key: str) -> None:
    contract = parse_contract(f"{key}: str = 'id'", cell_index=0, path="nb.ipynb")
    path = _yaml(tmp_path, f"{key}: customer_id\n")

    assert resolve_parameters(contract, read_parameter_file(path)) == {key: "customer_id"}


def test_non_utf8_parameter_file_is_a_parameter_error(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))

    with pytest.raises(ParameterError) as info:
        read_parameter_file(path)

    assert str(path) in info.value.one_line()
