"""``[tool.nbprod.test]``: how ``nbprod test`` compares and runs notebooks.

```toml
[tool.nbprod.test]
sanitize = [{ regex = "\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}", replace = "<TIME>" }]
tolerance = { rel = 1e-6, abs = 1e-9 }   # floats in text and HTML outputs
images = "skip"                          # or "exact"
regression = true                        # nbval on notebooks with saved outputs
smoke = true                             # execute notebooks without saved outputs
workers = 2                              # default: the number of cores
```
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import SettingsError
from .tolerance import Tolerance

_KEYS = frozenset({"sanitize", "tolerance", "images", "regression", "smoke", "workers"})


@dataclass(frozen=True)
class Sanitizer:
    regex: str
    replace: str


@dataclass(frozen=True)
class TestConfig:
    __test__ = False  # not a pytest test class

    sanitize: tuple[Sanitizer, ...] = ()
    tolerance: Tolerance = field(default_factory=Tolerance)
    images: str = "skip"
    regression: bool = True
    smoke: bool = True
    workers: int | None = None

    @classmethod
    def from_table(cls, table: Mapping[str, Any], where: str = "[tool.nbprod.test]"
                   ) -> TestConfig:
        for key in table:
            if key not in _KEYS:
                raise SettingsError(f"{where}: unknown setting '{key}'",
                                    hint=f"known: {', '.join(sorted(_KEYS))}")
        values: dict[str, Any] = {}
        if "sanitize" in table:
            values["sanitize"] = tuple(_sanitizer(item, f"{where}.sanitize[{i}]")
                                       for i, item in enumerate(_list(table["sanitize"],
                                                                      f"{where}.sanitize")))
        if "tolerance" in table:
            raw = table["tolerance"]
            if not isinstance(raw, dict) or set(raw) - {"rel", "abs"}:
                raise SettingsError(f"{where}.tolerance must be a table with rel and/or abs")
            for key, value in raw.items():
                if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                    raise SettingsError(f"{where}.tolerance.{key} must be a number >= 0")
            values["tolerance"] = Tolerance(rel=float(raw.get("rel", 0)),
                                            abs=float(raw.get("abs", 0)))
        if "images" in table:
            if table["images"] not in ("skip", "exact"):
                raise SettingsError(f"{where}.images must be 'skip' or 'exact'")
            values["images"] = table["images"]
        for key in ("regression", "smoke"):
            if key in table:
                if not isinstance(table[key], bool):
                    raise SettingsError(f"{where}.{key} must be true or false")
                values[key] = table[key]
        if "workers" in table:
            workers = table["workers"]
            if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
                raise SettingsError(f"{where}.workers must be a positive integer")
            values["workers"] = workers
        return cls(**values)

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise SettingsError(f"{where} must be a list")
    return value


def _sanitizer(item: Any, where: str) -> Sanitizer:
    if not isinstance(item, dict) or not isinstance(item.get("regex"), str):
        raise SettingsError(f"{where} must be a table with 'regex' (and 'replace')")
    try:
        re.compile(item["regex"])
    except re.error as exc:
        raise SettingsError(f"{where}: regex {item['regex']!r} is invalid: {exc}") from None
    replace = item.get("replace", "")
    if not isinstance(replace, str):
        raise SettingsError(f"{where}.replace must be a string")
    return Sanitizer(item["regex"], replace)
