"""Property-based tests (hypothesis) over the contract, coercion, the injection round-trip
and the notebook loader: whatever the input, a clear nbprod error or the right answer, never
a traceback."""

from __future__ import annotations

import json
import keyword
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbprod.errors import NbprodError, NotebookInvalid, ParameterError
from nbprod.notebook.contract import ContractError, ParamType, parse_contract
from nbprod.notebook.injection import injection_source
from nbprod.notebook.load import parse_notebook
from nbprod.notebook.values import coerce_string

from ..conftest import DATA

FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
names = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n) and not n.startswith("__"))
plain: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=12)


@pytest.mark.case("property: the contract parser")
@FAST
@given(st.text(max_size=300))
def test_any_parameters_cell_is_a_contract_or_a_contract_error(source: str) -> None:
    for strict in (True, False):
        try:
            contract = parse_contract(source, cell_index=0, path="nb.ipynb", strict=strict)
        except ContractError as exc:
            assert exc.one_line().startswith("nb.ipynb: parameters cell (cell 0)")
            continue
        assert all(p.type.accepts(p.default) for p in contract.parameters)


@pytest.mark.case("property: coercion")
@FAST
@given(st.text(max_size=60), st.sampled_from(["int", "float", "str", "bool", "list", "dict",
                                              "any"]), st.booleans())
def test_coercion_gives_the_type_or_a_parameter_error(text: str, base: str,
                                                      optional: bool) -> None:
    ptype = ParamType(base, optional=optional)
    try:
        value = coerce_string(text, ptype, "p", "-p")
    except ParameterError as exc:
        assert exc.one_line().startswith(f"parameter 'p' expects {ptype}")
        return
    assert ptype.accepts(value)


@pytest.mark.case("property: injection round-trip")
@FAST
@given(st.dictionaries(names, plain, max_size=6))
def test_injected_parameters_come_back_exactly(parameters: dict[str, Any]) -> None:
    source = injection_source(parameters)
    namespace: dict[str, Any] = {}
    exec(compile(source, "<injected>", "exec"), {}, namespace)
    assert namespace == parameters
    assert json.dumps(namespace, sort_keys=True, default=repr) == \
        json.dumps(parameters, sort_keys=True, default=repr)


_OK = (DATA / "ok.ipynb").read_text()


@pytest.mark.case("property: the notebook loader on mutated files")
@FAST
@given(st.integers(min_value=0, max_value=len(_OK) - 1), st.integers(min_value=0, max_value=40),
       st.text(max_size=8))
def test_a_mutated_notebook_loads_or_is_notebook_invalid(at: int, cut: int, insert: str) -> None:
    mutated = _OK[:at] + insert + _OK[at + cut:]
    try:
        node = parse_notebook(mutated, "nb.ipynb")
    except NotebookInvalid as exc:
        assert exc.one_line().startswith("nb.ipynb: ")
        return
    except NbprodError as exc:  # pragma: no cover - any other nbprod error is a finding
        raise AssertionError(f"{type(exc).__name__}: {exc}") from exc
    assert node["nbformat"] == 4
