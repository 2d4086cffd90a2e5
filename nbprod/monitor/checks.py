"""Data checks: what a profiled dataset must satisfy before a model eats it.

Declared per dataset in settings (``[tool.nbprod.monitor.checks.NAME]``) or in code
(``nbprod.profile(df, "NAME", checks={...})``), as the same table::

    rows = { min = 100, max = 1_000_000 }          # row-count bounds
    [columns.age]
    type = "numeric"                                # or categorical, boolean, datetime, text
    max_missing = 0.01                              # share of missing values allowed
    min = 0
    max = 120
    [columns.country]
    allowed = ["DE", "FR", "NL"]
    [columns.id]
    unique = true

A pandera ``DataFrameSchema`` is accepted in code as well. Row-level rules (ranges, allowed
values, uniqueness, a schema's own checks) run through pandera, lazily, so every broken rule
is counted; dataset-level ones (row count, missing share, type) are read off the profile.
Each result names the dataset, the column, the rule and how many rows break it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .profile import Profile

KINDS = ("numeric", "categorical", "boolean", "datetime", "text")

_DATASET_KEYS = frozenset({"rows", "columns"})
_COLUMN_KEYS = frozenset({"type", "max_missing", "min", "max", "allowed", "unique",
                          "required"})


class DataCheckFailed(ValueError):
    """A data check broke (raised inside the notebook; the run fails as ``data_check``)."""

    def __init__(self, message: str, results: list[CheckResult]) -> None:
        super().__init__(message)
        self.results = results


class CheckSpecError(ValueError):
    """A data check is declared wrongly (settings or code)."""


@dataclass(frozen=True)
class CheckResult:
    dataset: str
    column: str | None  # None: a rule on the whole dataset (row count)
    rule: str
    failing_rows: int
    passed: bool

    def to_json(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "column": self.column, "rule": self.rule,
                "failing_rows": self.failing_rows, "passed": self.passed}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(dataset=str(data["dataset"]), column=data.get("column"),
                   rule=str(data["rule"]), failing_rows=int(data["failing_rows"]),
                   passed=bool(data["passed"]))

    def describe(self) -> str:
        where = f"column '{self.column}'" if self.column else "the dataset"
        return (f"dataset '{self.dataset}', {where}: rule '{self.rule}' broken by "
                f"{self.failing_rows} row{'s' if self.failing_rows != 1 else ''}")


def validate_spec(spec: Any, where: str) -> dict[str, Any]:
    """A declared check table, checked for known keys and value types."""
    if not isinstance(spec, Mapping):
        raise CheckSpecError(f"{where}: data checks must be a table (rows, columns)")
    unknown = set(spec) - _DATASET_KEYS
    if unknown:
        raise CheckSpecError(f"{where}: unknown data check '{sorted(unknown)[0]}' "
                             f"(known: {', '.join(sorted(_DATASET_KEYS))})")
    rows = spec.get("rows", {})
    if not isinstance(rows, Mapping) or set(rows) - {"min", "max"} or not all(
            _is_number(v) for v in rows.values()):
        raise CheckSpecError(f"{where}.rows must be a table with min and/or max numbers")
    columns = spec.get("columns", {})
    if not isinstance(columns, Mapping):
        raise CheckSpecError(f"{where}.columns must be a table of column names")
    for column, rules in columns.items():
        _validate_column(rules, f"{where}.columns.{column}")
    return {"rows": dict(rows), "columns": {str(k): dict(v) for k, v in columns.items()}}


def _validate_column(rules: Any, where: str) -> None:
    if not isinstance(rules, Mapping):
        raise CheckSpecError(f"{where} must be a table of rules")
    unknown = set(rules) - _COLUMN_KEYS
    if unknown:
        raise CheckSpecError(f"{where}: unknown rule '{sorted(unknown)[0]}' "
                             f"(known: {', '.join(sorted(_COLUMN_KEYS))})")
    if "type" in rules and rules["type"] not in KINDS:
        raise CheckSpecError(f"{where}.type must be one of {', '.join(KINDS)}")
    for key in ("min", "max", "max_missing"):
        if key in rules and not _is_number(rules[key]):
            raise CheckSpecError(f"{where}.{key} must be a number")
    if "allowed" in rules and not isinstance(rules["allowed"], list):
        raise CheckSpecError(f"{where}.allowed must be a list of values")
    for key in ("unique", "required"):
        if key in rules and not isinstance(rules[key], bool):
            raise CheckSpecError(f"{where}.{key} must be true or false")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def run_checks(frame: Any, profile: Profile, spec: Any) -> list[CheckResult]:
    """Every rule of ``spec`` (a check table or a pandera schema) on ``frame``."""
    if _is_pandera_schema(spec):
        return _row_level(frame, profile.name, spec, {})
    table = validate_spec(spec, f"data checks of '{profile.name}'")
    results = _dataset_level(profile, table)
    present = {c: r for c, r in table["columns"].items() if profile.column(c) is not None}
    rules = {c: r for c, r in present.items()
             if any(k in r for k in ("min", "max", "allowed", "unique"))}
    if rules:
        results += _row_level(frame, profile.name, _schema(rules), rules)
    return results


def _dataset_level(profile: Profile, table: Mapping[str, Any]) -> list[CheckResult]:
    name = profile.name
    results = []
    rows = table["rows"]
    if "min" in rows:
        short = max(0, int(rows["min"]) - profile.rows)
        results.append(CheckResult(name, None, f"rows >= {rows['min']:g}", short, short == 0))
    if "max" in rows:
        extra = max(0, profile.rows - int(rows["max"]))
        results.append(CheckResult(name, None, f"rows <= {rows['max']:g}", extra, extra == 0))
    for column, rules in table["columns"].items():
        found = profile.column(column)
        if found is None:
            if rules.get("required", True):
                results.append(CheckResult(name, column, "required", profile.rows, False))
            continue
        if "type" in rules:
            ok = found.kind == rules["type"]
            results.append(CheckResult(name, column, f"type {rules['type']} (is {found.kind})",
                                       0 if ok else found.count, ok))
        if "max_missing" in rules:
            allowed = float(rules["max_missing"]) * profile.rows
            ok = found.missing <= allowed
            results.append(CheckResult(name, column, f"max_missing {rules['max_missing']:g}",
                                       found.missing if not ok else 0, ok))
    return results


def _schema(rules: Mapping[str, Mapping[str, Any]]) -> Any:
    import pandera.pandas as pa

    columns = {}
    for column, rule in rules.items():
        checks = []
        if "min" in rule:
            checks.append(pa.Check.ge(rule["min"], error=f"min {rule['min']:g}"))
        if "max" in rule:
            checks.append(pa.Check.le(rule["max"], error=f"max {rule['max']:g}"))
        if "allowed" in rule:
            checks.append(pa.Check.isin(rule["allowed"], error="allowed values"))
        columns[column] = pa.Column(checks=checks, nullable=True,
                                    unique=bool(rule.get("unique", False)), coerce=False)
    return pa.DataFrameSchema(columns, strict=False)


def _row_level(frame: Any, dataset: str, schema: Any,
               rules: Mapping[str, Mapping[str, Any]]) -> list[CheckResult]:
    """Run a pandera schema lazily and count, per column and check, the rows that break it."""
    import pandera.errors as pa_errors

    expected = _expected_checks(rules)
    try:
        schema.validate(frame, lazy=True)
        failures: dict[tuple[str | None, str], int] = {}
    except pa_errors.SchemaErrors as exc:
        failures = _count_failures(exc.failure_cases)
    except pa_errors.SchemaError as exc:  # a schema error pandera cannot collect lazily
        failures = {(getattr(exc, "column_name", None), str(exc).splitlines()[0][:200]): 0}
    results = []
    for column, rule in expected:
        count = failures.pop((column, rule), 0)
        results.append(CheckResult(dataset, column, rule, count, count == 0))
    results += [CheckResult(dataset, column, rule, count, False)
                for (column, rule), count in failures.items()]
    return results


def _expected_checks(rules: Mapping[str, Mapping[str, Any]]) -> list[tuple[str | None, str]]:
    expected: list[tuple[str | None, str]] = []
    for column, rule in rules.items():
        if "min" in rule:
            expected.append((column, f"min {rule['min']:g}"))
        if "max" in rule:
            expected.append((column, f"max {rule['max']:g}"))
        if "allowed" in rule:
            expected.append((column, "allowed values"))
        if rule.get("unique"):
            expected.append((column, "unique"))
    return expected


def _count_failures(cases: Any) -> dict[tuple[str | None, str], int]:
    counts: dict[tuple[str | None, str], int] = {}
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        rule = "unique" if check == "field_uniqueness" else str(check)
        rows = int(group["index"].notna().sum()) or len(group)
        key = (None if column is None or column != column else str(column), rule)
        counts[key] = counts.get(key, 0) + rows
    return counts


def _is_pandera_schema(spec: Any) -> bool:
    return type(spec).__name__ == "DataFrameSchema" and hasattr(spec, "validate")


def failed(results: list[CheckResult]) -> list[CheckResult]:
    return [r for r in results if not r.passed]


def failure_message(results: list[CheckResult]) -> str:
    broken = failed(results)
    more = f" (and {len(broken) - 1} more broken rule{'s' if len(broken) > 2 else ''})" \
        if len(broken) > 1 else ""
    return f"data check failed: {broken[0].describe()}{more}"
