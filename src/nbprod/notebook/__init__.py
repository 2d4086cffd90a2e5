"""The notebook model: read and validate, version, parameter contract, injection.

Pure: no kernels and no I/O beyond reading the notebook (and a parameter file).
"""

from __future__ import annotations

from .contract import ContractError, Parameter, ParameterContract, ParamType, parse_contract
from .injection import InjectedNotebook, inject_parameters, injection_source
from .load import Notebook, cell_source, notebook_version, parse_notebook, read_notebook
from .values import GivenValue, read_parameter_file, resolve_parameters

__all__ = [
    "ContractError", "GivenValue", "InjectedNotebook", "Notebook", "ParamType", "Parameter",
    "ParameterContract", "cell_source", "contract_of", "inject_parameters",
    "injection_source", "notebook_version", "parse_contract", "parse_notebook",
    "read_notebook", "read_parameter_file", "resolve_parameters",
]


def contract_of(notebook: Notebook, *, strict: bool = True) -> ParameterContract:
    """The notebook's parameter contract (empty, with no cell index, if it has none).

    Raises ContractError if several cells are tagged ``parameters`` (strict) or the cell does
    not declare plain-data parameters.
    """
    tagged = notebook.parameters_cells
    if not tagged:
        return ParameterContract(cell_index=None)
    if len(tagged) > 1 and strict:
        raise ContractError(str(notebook.path),
                            f"cells {', '.join(map(str, tagged))} are all tagged 'parameters'",
                            hint="keep the tag on one cell")
    index = tagged[0]
    return parse_contract(cell_source(notebook.node.cells[index]), cell_index=index,
                          path=str(notebook.path), strict=strict)
