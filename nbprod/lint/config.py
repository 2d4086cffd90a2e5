"""``[tool.nbprod.lint]``: which codes run, how severe they are, and what fails the build.

```toml
[tool.nbprod.lint]
select = ["NBP", "F821", "F401", "E999"]   # code prefixes to report
ignore = ["NBP401"]
fail_on = "warning"                          # error | warning | info
per_file_ignores = { "notebooks/scratch/*.ipynb" = ["NBP3"] }
severity = { NBP401 = "error" }
max_output_bytes = 1000000
max_notebook_bytes = 10000000
ruff = true
ruff_select = ["F821", "F401", "F811", "E9"]
```
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import SettingsError
from .model import SEVERITY_RANK, Severity

_KEYS = frozenset({"select", "ignore", "fail_on", "per_file_ignores", "severity",
                   "max_output_bytes", "max_notebook_bytes", "ruff", "ruff_select", "exclude"})

# Severity of the Python checks ruff runs for us (others default to warning).
RUFF_SEVERITY: dict[str, Severity] = {"F821": "error", "E999": "error", "F811": "warning",
                                      "F401": "warning", "F841": "warning"}


@dataclass(frozen=True)
class LintConfig:
    select: tuple[str, ...] = ("NBP", "F", "E9")
    ignore: tuple[str, ...] = ()
    fail_on: Severity = "warning"
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    severity: Mapping[str, Severity] = field(default_factory=dict)
    max_output_bytes: int = 1_000_000
    max_notebook_bytes: int = 10_000_000
    ruff: bool = True
    ruff_select: tuple[str, ...] = ("F821", "F401", "F811", "E9")
    exclude: tuple[str, ...] = (".ipynb_checkpoints", "nbprod-local", ".nbprod", ".venv",
                                "node_modules")

    @classmethod
    def from_table(cls, table: Mapping[str, Any], where: str = "[tool.nbprod.lint]"
                   ) -> LintConfig:
        """Validate a settings table; every problem is a SettingsError naming the key."""
        for key in table:
            if key not in _KEYS:
                raise SettingsError(f"{where}: unknown setting '{key}'",
                                    hint=f"known: {', '.join(sorted(_KEYS))}")
        values: dict[str, Any] = {}
        for key in ("select", "ignore", "ruff_select", "exclude"):
            if key in table:
                values[key] = _strings(table[key], f"{where}.{key}")
        if "fail_on" in table:
            values["fail_on"] = _severity(table["fail_on"], f"{where}.fail_on")
        if "severity" in table:
            raw = _table(table["severity"], f"{where}.severity")
            values["severity"] = {str(k): _severity(v, f"{where}.severity.{k}")
                                  for k, v in raw.items()}
        if "per_file_ignores" in table:
            raw = _table(table["per_file_ignores"], f"{where}.per_file_ignores")
            values["per_file_ignores"] = {str(k): _strings(v, f"{where}.per_file_ignores.{k}")
                                          for k, v in raw.items()}
        for key in ("max_output_bytes", "max_notebook_bytes"):
            if key in table:
                value = table[key]
                if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                    raise SettingsError(f"{where}.{key} must be a positive integer, "
                                        f"got {value!r}")
                values[key] = value
        if "ruff" in table:
            if not isinstance(table["ruff"], bool):
                raise SettingsError(f"{where}.ruff must be true or false")
            values["ruff"] = table["ruff"]
        return cls(**values)

    def with_overrides(self, *, select: tuple[str, ...] = (), ignore: tuple[str, ...] = (),
                       fail_on: Severity | None = None) -> LintConfig:
        values = asdict(self)
        if select:
            values["select"] = tuple(select)
        if ignore:
            values["ignore"] = (*self.ignore, *ignore)
        if fail_on:
            values["fail_on"] = fail_on
        return LintConfig(**values)

    def enabled(self, code: str, path: str) -> bool:
        """Whether ``code`` is reported for the file ``path`` (project-relative)."""
        if not any(code.startswith(prefix) for prefix in self.select):
            return False
        if any(code.startswith(prefix) for prefix in self.ignore):
            return False
        for pattern, codes in self.per_file_ignores.items():
            if fnmatch.fnmatch(path, pattern) and any(code.startswith(c) for c in codes):
                return False
        return True

    def severity_of(self, code: str, default: Severity) -> Severity:
        return self.severity.get(code, default)

    def fails(self, severity: str) -> bool:
        return SEVERITY_RANK[severity] >= SEVERITY_RANK[self.fail_on]

    def digest(self) -> str:
        data = asdict(self)
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=list).encode()
                              ).hexdigest()


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"{where} must be a list of strings, got {value!r}")
    return tuple(value)


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise SettingsError(f"{where} must be a table, got {value!r}")
    return value


def _severity(value: Any, where: str) -> Severity:
    if value not in SEVERITY_RANK:
        raise SettingsError(f"{where} must be one of error, warning, info; got {value!r}")
    return value  # type: ignore[no-any-return]
