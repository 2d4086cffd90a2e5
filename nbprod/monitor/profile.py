"""A compact profile of a pandas DataFrame: enough to check and compare data, never the data.

Per column: its kind (``numeric``, ``categorical``, ``boolean``, ``datetime``, ``text``), the
count of present values, the missing count, a distinct count, and

- numeric and datetime (as seconds since the epoch): mean, standard deviation, minimum,
  maximum, the 101 percentiles (the quantile sketch the drift statistics use) and a 20-bin
  histogram; with at most 20 distinct values also their exact counts;
- categorical and boolean: the 20 most frequent values with their counts, and the count of
  the others;
- text: the same numeric summary of the values' lengths, and the most frequent values.

Its size depends on the number of columns, never on the number of rows. One sort per numeric
column gives the exact percentiles and the distinct count (about 50 ms per million values).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .checks import KINDS

FORMAT = "nbprod.profile/1"
PERCENTILES = 101  # quantiles at 0, 0.01, ..., 1
BINS = 20
TOP = 20  # most frequent values kept per categorical column
LOW_CARDINALITY = 20  # numeric columns with at most this many values keep exact counts
_TEXT_MIN_DISTINCT = 100  # strings with more distinct values than this (and > 5 %) are text
_VALUE_WIDTH = 200

__all__ = ["KINDS", "ColumnProfile", "NumericSummary", "Profile", "profile_frame"]


@dataclass(frozen=True)
class NumericSummary:
    """Moments, extremes, the percentile sketch and a histogram of one column's values."""

    mean: float
    std: float
    min: float
    max: float
    quantiles: tuple[float, ...]
    edges: tuple[float, ...]
    counts: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.std, "min": self.min, "max": self.max,
                "quantiles": list(self.quantiles), "histogram": {
                    "edges": list(self.edges), "counts": list(self.counts)}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NumericSummary:
        histogram = data.get("histogram") or {}
        return cls(mean=float(data["mean"]), std=float(data["std"]), min=float(data["min"]),
                   max=float(data["max"]),
                   quantiles=tuple(float(q) for q in data["quantiles"]),
                   edges=tuple(float(e) for e in histogram.get("edges", ())),
                   counts=tuple(int(c) for c in histogram.get("counts", ())))


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    kind: str
    dtype: str
    count: int  # present (non-missing) values
    missing: int
    distinct: int
    numeric: NumericSummary | None = None  # numeric, datetime; text: value lengths
    top: tuple[tuple[str, int], ...] = ()  # categorical, boolean, text; low-cardinality numbers
    other: int = 0  # present values outside ``top``

    @property
    def counts(self) -> dict[str, int] | None:
        """Exact value counts when the profile holds every value, else None."""
        if not self.top or self.other:
            return None
        return dict(self.top)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.kind, "dtype": self.dtype,
                                "count": self.count, "missing": self.missing,
                                "distinct": self.distinct}
        if self.numeric is not None:
            data["numeric"] = self.numeric.to_json()
        if self.top:
            data["top"] = [[value, count] for value, count in self.top]
            data["other"] = self.other
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ColumnProfile:
        numeric = data.get("numeric")
        return cls(name=str(data["name"]), kind=str(data["kind"]), dtype=str(data["dtype"]),
                   count=int(data["count"]), missing=int(data["missing"]),
                   distinct=int(data["distinct"]),
                   numeric=NumericSummary.from_json(numeric) if numeric else None,
                   top=tuple((str(v), int(c)) for v, c in data.get("top", ())),
                   other=int(data.get("other", 0)))


@dataclass(frozen=True)
class Profile:
    """A dataset's profile: its row count, schema and one :class:`ColumnProfile` per column."""

    name: str
    rows: int
    columns: tuple[ColumnProfile, ...] = field(default_factory=tuple)

    def column(self, name: str) -> ColumnProfile | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def schema(self) -> dict[str, str]:
        """Column name -> kind."""
        return {c.name: c.kind for c in self.columns}

    def summary(self) -> dict[str, Any]:
        """What the registry keeps about a profile: rows and, per column, kind and missing."""
        return {"rows": self.rows, "columns": {c.name: {"kind": c.kind, "missing": c.missing}
                                               for c in self.columns}}

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "name": self.name, "rows": self.rows,
                "columns": [c.to_json() for c in self.columns]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Profile:
        if data.get("format") != FORMAT:
            raise ValueError(f"not an nbprod profile (format {data.get('format')!r})")
        return cls(name=str(data["name"]), rows=int(data["rows"]),
                   columns=tuple(ColumnProfile.from_json(c) for c in data["columns"]))

    def _repr_html_(self) -> str:  # shown when a notebook displays the returned profile
        rows = "".join(f"<tr><td>{_escape(c.name)}</td><td>{c.kind}</td><td>{c.missing}</td>"
                       f"<td>{c.distinct}</td></tr>" for c in self.columns)
        return (f"<p>profile <b>{_escape(self.name)}</b>: {self.rows} rows, "
                f"{len(self.columns)} columns</p><table><tr><th>column</th><th>kind</th>"
                f"<th>missing</th><th>distinct</th></tr>{rows}</table>")


def profile_frame(frame: Any, name: str) -> Profile:
    """Profile a pandas DataFrame (a Series is profiled as a one-column frame)."""
    if isinstance(frame, pd.Series):
        frame = frame.to_frame(name=str(frame.name if frame.name is not None else name))
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"nbprod.profile({name!r}): expects a pandas DataFrame, got "
                        f"{type(frame).__name__}")
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        raise ValueError(f"nbprod.profile({name!r}): column names must be unique")
    columns = tuple(profile_column(frame.iloc[:, i], names[i]) for i in range(len(names)))
    return Profile(name=name, rows=len(frame), columns=columns)


def profile_column(series: pd.Series, name: str) -> ColumnProfile:
    """The profile of one column (see the module docstring for what each kind keeps)."""
    dtype = series.dtype
    missing = int(series.isna().sum())
    present = series.dropna() if missing else series
    if pd.api.types.is_bool_dtype(dtype):
        return _categorical(name, "boolean", str(dtype), present.astype(bool), missing)
    if isinstance(dtype, pd.CategoricalDtype):
        return _categorical(name, "categorical", str(dtype), present, missing)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = pd.to_datetime(present, utc=True)
        seconds = (stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
        return _numeric(name, "datetime", str(dtype), seconds, missing)
    if pd.api.types.is_numeric_dtype(dtype):
        values = present.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = values[np.isfinite(values)]
        return _numeric(name, "numeric", str(dtype), finite, missing + len(values) - len(finite))
    return _strings(name, str(dtype), present.astype(str), missing)


def _numeric(name: str, kind: str, dtype: str, values: np.ndarray[Any, Any],
             missing: int) -> ColumnProfile:
    ordered = np.sort(values)
    count = len(ordered)
    if count == 0:
        return ColumnProfile(name, kind, dtype, 0, missing, 0)
    distinct = int(np.count_nonzero(np.diff(ordered))) + 1
    top: tuple[tuple[str, int], ...] = ()
    if kind == "numeric" and distinct <= LOW_CARDINALITY:
        values_, counts = np.unique(ordered, return_counts=True)
        top = tuple((_number_label(float(v)), int(c)) for v, c in zip(values_, counts,
                                                                          strict=True))
    return ColumnProfile(name, kind, dtype, count, missing, distinct,
                         numeric=_summary(ordered), top=top)


def _summary(ordered: np.ndarray[Any, Any]) -> NumericSummary:
    """Moments, percentiles (linear interpolation, as numpy's default) and a histogram."""
    count = len(ordered)
    positions = np.linspace(0.0, count - 1, PERCENTILES)
    low = np.floor(positions).astype(np.int64)
    high = np.minimum(low + 1, count - 1)
    weight = positions - low
    quantiles = ordered[low] * (1.0 - weight) + ordered[high] * weight
    lo, hi = float(ordered[0]), float(ordered[-1])
    edges = np.linspace(lo, hi, BINS + 1) if hi > lo else np.array([lo, lo])
    cuts = np.searchsorted(ordered, edges[1:-1], side="left")
    counts = np.diff(np.concatenate(([0], cuts, [count]))) if hi > lo else np.array([count])
    return NumericSummary(mean=float(ordered.mean()), std=float(ordered.std()), min=lo, max=hi,
                          quantiles=tuple(_clean(q) for q in quantiles),
                          edges=tuple(_clean(e) for e in edges),
                          counts=tuple(int(c) for c in counts))


def _categorical(name: str, kind: str, dtype: str, present: pd.Series,
                 missing: int) -> ColumnProfile:
    counts = present.value_counts(sort=True, dropna=True)
    counts = counts[counts > 0]
    top = tuple((_label(value), int(count)) for value, count in counts.iloc[:TOP].items())
    return ColumnProfile(name, kind, dtype, len(present), missing, len(counts), top=top,
                         other=int(counts.iloc[TOP:].sum()))


def _strings(name: str, dtype: str, present: pd.Series, missing: int) -> ColumnProfile:
    counts = present.value_counts(sort=True)
    distinct = len(counts)
    top = tuple((_label(value), int(count)) for value, count in counts.iloc[:TOP].items())
    other = int(counts.iloc[TOP:].sum())
    if distinct <= _TEXT_MIN_DISTINCT or distinct <= 0.05 * max(len(present), 1):
        return ColumnProfile(name, "categorical", dtype, len(present), missing, distinct,
                             top=top, other=other)
    lengths = present.str.len().to_numpy(dtype=np.float64)
    return ColumnProfile(name, "text", dtype, len(present), missing, distinct,
                         numeric=_summary(np.sort(lengths)), top=top[:5],
                         other=len(present) - sum(c for _, c in top[:5]))


def _label(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return _number_label(float(value))
    return str(value)[:_VALUE_WIDTH]


def _number_label(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _clean(value: Any) -> float:
    number = float(value)
    return number if math.isfinite(number) else 0.0


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def merged_counts(left: ColumnProfile, right: ColumnProfile) -> tuple[list[str], list[int],
                                                                        list[int]]:
    """Both columns' value counts over the union of their kept values, plus one bucket for
    the values either profile did not keep (``other``)."""
    a, b = dict(left.top), dict(right.top)
    labels = sorted(set(a) | set(b), key=lambda v: -(a.get(v, 0) + b.get(v, 0)))
    ca = [a.get(v, 0) for v in labels]
    cb = [b.get(v, 0) for v in labels]
    if left.other or right.other:
        labels.append("(other)")
        ca.append(left.other)
        cb.append(right.other)
    return labels, ca, cb


def as_counts(columns: Sequence[ColumnProfile]) -> bool:
    """Whether columns compare by their value counts (categories, or few distinct numbers)."""
    return all(c.kind in ("categorical", "boolean") or (c.kind == "numeric" and c.counts)
               for c in columns)
