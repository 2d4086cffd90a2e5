"""The notebook model: read and validate, version, parameter contract, injection.

Pure: no kernels and no I/O beyond reading the notebook (and a parameter file). The names
below load on first use, so a caller that needs only the contract or the version (the linter)
does not pay for nbformat.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .contract import (
        Advisory,
        ContractError,
        Parameter,
        ParameterContract,
        ParamType,
        parse_contract,
    )
    from .injection import InjectedNotebook, inject_parameters, injection_source
    from .load import Notebook, parse_notebook, read_notebook
    from .values import GivenValue, read_parameter_file, resolve_parameters
    from .version import cell_source, notebook_version

_EXPORTS = {
    "Advisory": "contract", "ContractError": "contract", "Parameter": "contract",
    "ParameterContract": "contract", "ParamType": "contract", "parse_contract": "contract",
    "InjectedNotebook": "injection", "inject_parameters": "injection",
    "injection_source": "injection",
    "Notebook": "load", "parse_notebook": "load", "read_notebook": "load",
    "GivenValue": "values", "read_parameter_file": "values", "resolve_parameters": "values",
    "cell_source": "version", "notebook_version": "version",
}

__all__ = [
    "Advisory", "ContractError", "GivenValue", "InjectedNotebook", "Notebook", "ParamType",
    "Parameter", "ParameterContract", "cell_source", "contract_of", "inject_parameters",
    "injection_source",
    "notebook_version", "parse_contract", "parse_notebook", "read_notebook",
    "read_parameter_file", "resolve_parameters",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


def contract_of(notebook: Notebook, *, strict: bool = True) -> ParameterContract:
    """The notebook's parameter contract (empty, with no cell index, if it has none).

    The first cell tagged ``parameters`` declares it, as papermill injects after that cell
    (``nbprod lint`` reports the others). Raises ContractError if that cell cannot be read or
    a literal default contradicts its annotation (see :func:`parse_contract`).
    """
    from .contract import ParameterContract, parse_contract
    from .version import cell_source

    tagged = notebook.parameters_cells
    if not tagged:
        return ParameterContract(cell_index=None)
    index = tagged[0]
    return parse_contract(cell_source(notebook.node.cells[index]), cell_index=index,
                          path=str(notebook.path), strict=strict)
