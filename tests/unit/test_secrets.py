"""Secret parameters in the contract, their injection and their masking (notebook/secrets.py)."""

from __future__ import annotations

import ast

import pytest

from nbprod.errors import ParameterError
from nbprod.notebook.contract import parse_contract
from nbprod.notebook.injection import injection_source
from nbprod.notebook.secrets import recorded, split_secrets
from nbprod.notebook.values import GivenValue, resolve_parameters

CELL = ('db_password: str = ""  # the password; nbprod: secret\n'
        'token = ""  # nbprod: secret\n'
        'pin: int = 0  # nbprod: secret\n'
        'api_key: str = ""\n'
        "n: int = 1  # not secret: nbprod:secretive")


def test_the_contract_marks_secrets_and_keeps_the_help() -> None:
    contract = parse_contract(CELL, cell_index=0, path="nb.ipynb")
    flags = {p.name: (p.secret, p.help) for p in contract.parameters}
    assert flags == {"db_password": (True, "the password"), "token": (True, None),
                     "pin": (True, None), "api_key": (False, None),
                     "n": (False, "not secret: nbprod:secretive")}


def test_split_takes_values_from_parameters_and_the_environment() -> None:
    contract = parse_contract(CELL.replace("pin: int = 0  # nbprod: secret\n", ""),
                              cell_index=0, path="nb.ipynb")
    params = resolve_parameters(contract, {"db_password": GivenValue("hunter22", "-p", True),
                                           "n": GivenValue("3", "-p", True)})
    public, secrets = split_secrets(contract, params, {"NBPROD_SECRET_API_KEY": "k-9911",
                                                       "NBPROD_SECRET_OTHER": "zzz-other"})
    assert public == {"n": 3}
    assert secrets.names == ("db_password", "api_key")  # token: not given, default stays
    assert dict(secrets.env) == {"NBPROD_SECRET_DB_PASSWORD": "hunter22",
                                 "NBPROD_SECRET_API_KEY": "k-9911"}
    assert recorded(public, secrets) == {"n": 3, "db_password": "***", "api_key": "***"}
    assert secrets.mask_data({"a": ["x hunter22 y", "zzz-other"], "b": 1}) == \
        {"a": ["x *** y", "***"], "b": 1}


def test_a_secret_that_is_not_a_string_is_refused_without_its_value() -> None:
    contract = parse_contract(CELL, cell_index=0, path="nb.ipynb")
    with pytest.raises(ParameterError, match="'pin' is declared int; secrets are strings"):
        split_secrets(contract, {}, {"NBPROD_SECRET_PIN": "4242"})
    with pytest.raises(ParameterError) as caught:
        resolve_parameters(contract, {"token": GivenValue(["s3cr3t-list"], "params.yaml")})
    assert "s3cr3t" not in caught.value.one_line()


def test_the_injected_cell_reads_secrets_from_the_environment() -> None:
    source = injection_source({"n": 3}, ["db_password"])
    assert "hunter" not in source
    tree = ast.parse(source)
    assert ast.unparse(tree.body[-1]) == \
        "db_password = __import__('os').environ['NBPROD_SECRET_DB_PASSWORD']"


def test_a_secret_name_cannot_smuggle_code() -> None:
    with pytest.raises(ParameterError, match="cannot be injected safely"):
        injection_source({}, ["x = 1; import os; y"])
