"""Secret parameters: given to the kernel through its environment, written nowhere.

A parameter is secret when its parameters-cell line says so (``db_password: str = ""  #
nbprod: secret``) or when its value comes from ``NBPROD_SECRET_<NAME>`` in the environment
(``NBPROD_SECRET_DB_PASSWORD`` for ``db_password``). Its value — from that variable, or from
``-p``/``-f``/settings — is put in the kernel's environment under ``NBPROD_SECRET_<NAME>``, and
the injected cell reads it from there::

    db_password = __import__("os").environ["NBPROD_SECRET_DB_PASSWORD"]

so the output notebook, the report, ``record.json``, the registry and ``--json`` output hold
only ``***``. Every secret value (and every ``NBPROD_SECRET_*`` value in the environment) is
also masked wherever a notebook's outputs, recorded values or failure messages would show it,
as CI systems mask secrets in logs. Values shorter than :data:`MIN_MASKED` characters are not
masked in outputs (they would mask ordinary text); files a notebook writes itself with
``nbprod.output_path`` are its own business. Secrets are not part of the run key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ParameterError
from .contract import ParameterContract

PREFIX = "NBPROD_SECRET_"
MASK = "***"
MIN_MASKED = 3


def env_name(name: str) -> str:
    """The environment variable that carries parameter ``name``."""
    return f"{PREFIX}{name.upper()}"


def injected_line(name: str) -> str:
    """The injected cell's statement for a secret parameter (checked by re-parsing)."""
    return f"{name} = __import__('os').environ[{env_name(name)!r}]"


@dataclass(frozen=True)
class Secrets:
    """The secret parameters of one run."""

    names: tuple[str, ...] = ()  # injected from the environment, in contract order
    env: Mapping[str, str] = field(default_factory=dict)  # added to the kernel's environment
    values: tuple[str, ...] = ()  # every value to mask, longest first

    def mask(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, MASK)
        return text

    def mask_data(self, data: Any) -> Any:
        """``data`` (plain JSON-like values) with every secret in its strings masked."""
        if not self.values:
            return data
        if isinstance(data, str):
            return self.mask(data)
        if isinstance(data, list):
            return [self.mask_data(v) for v in data]
        if isinstance(data, dict):
            return {k: self.mask_data(v) for k, v in data.items()}
        return data


def split_secrets(contract: ParameterContract, parameters: Mapping[str, Any],
                  environ: Mapping[str, str]) -> tuple[dict[str, Any], Secrets]:
    """The parameters to inject as literals, and the secrets to pass through the environment.

    Raises ParameterError (naming the parameter, never the value) for a secret that is not a
    string.
    """
    public = dict(parameters)
    env: dict[str, str] = {}
    names = []
    for parameter in contract.parameters:
        variable = env_name(parameter.name)
        if not (parameter.secret or variable in environ):
            continue
        if parameter.type.base not in ("str", "any"):
            raise ParameterError(f"secret parameter '{parameter.name}' is declared "
                                 f"{parameter.type}; secrets are strings",
                                 parameter=parameter.name, hint=f"declare it `{parameter.name}: "
                                 "str = \"\"  # nbprod: secret`")
        if parameter.name in public:
            value = public.pop(parameter.name)
        elif variable in environ:
            value = environ[variable]
        else:
            continue  # not given: the notebook's own default stays
        if not isinstance(value, str):
            raise ParameterError(f"secret parameter '{parameter.name}' must be given as a "
                                 "string", parameter=parameter.name)
        env[variable] = value
        names.append(parameter.name)
    found = [v for k, v in environ.items() if k.startswith(PREFIX)] + list(env.values())
    return public, Secrets(tuple(names), env, _maskable(found))


def recorded(parameters: Mapping[str, Any], secrets: Secrets) -> dict[str, Any]:
    """The parameters as records show them: each secret as ``***``."""
    return {**parameters, **{name: MASK for name in secrets.names}}


def _maskable(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if len(v) >= MIN_MASKED}, key=len, reverse=True))
