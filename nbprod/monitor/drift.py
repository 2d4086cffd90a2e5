"""Drift between two profiles: one statistic per column, chosen by kind and sample size.

As the drift libraries do, small samples get a hypothesis test and large ones a distance
(a test on a million rows flags differences nobody cares about):

=========================  ===============================  ===================================
column                     both samples <= ``large`` rows   otherwise
=========================  ===============================  ===================================
numeric, datetime, text    two-sample Kolmogorov-Smirnov     Wasserstein distance divided by the
(text: value lengths)      (p-value)                         reference's standard deviation
categorical, boolean,      chi-square test of homogeneity    Jensen-Shannon distance of the
few distinct numbers       (p-value)                         value shares
=========================  ===============================  ===================================

Everything is computed from the profiles (percentile sketches, value counts), so comparing a
million rows costs what comparing a thousand does. The KS statistic is the largest gap between
the two piecewise-linear CDFs the sketches describe; its p-value is the asymptotic
two-sample one (scipy's ``kstwo`` at the effective sample size).

The dataset verdict takes multiple testing into account: the p-values of the tested columns
are adjusted with Holm's step-down method, so the chance of calling *any* column drifted when
none moved stays at ``alpha`` (default 0.01: a daily check raises a false alarm about once in
a hundred days, not once in twenty). Distances are compared with their thresholds (0.1).
The dataset has drifted when at least one column has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .profile import PERCENTILES, ColumnProfile, Profile, as_counts, merged_counts

ALPHA = 0.01
LARGE = 1000
DISTANCE_THRESHOLD = 0.1
_PROBABILITIES = np.linspace(0.0, 1.0, PERCENTILES)


@dataclass(frozen=True)
class DriftOptions:
    alpha: float = ALPHA  # family-wise error rate of the tests, over all tested columns
    large: int = LARGE  # above this many rows (in the smaller sample) distances are used
    threshold: float = DISTANCE_THRESHOLD  # for Wasserstein (normed) and Jensen-Shannon

    def to_json(self) -> dict[str, Any]:
        return {"alpha": self.alpha, "large": self.large, "threshold": self.threshold}


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    kind: str
    statistic: str  # ks | chi2 | wasserstein | jensenshannon | schema
    score: float  # the statistic's value (the distance, or the test statistic)
    p_value: float | None  # tests only, before adjustment
    threshold: float  # alpha (after Holm's adjustment) for tests, the distance threshold
    drifted: bool
    n_reference: int
    n_current: int
    adjusted_p: float | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"column": self.column, "kind": self.kind, "statistic": self.statistic,
                "score": self.score, "p_value": self.p_value, "adjusted_p": self.adjusted_p,
                "threshold": self.threshold, "drifted": self.drifted,
                "n_reference": self.n_reference, "n_current": self.n_current,
                "note": self.note}


@dataclass(frozen=True)
class DriftReport:
    reference: str
    current: str
    rows_reference: int
    rows_current: int
    columns: tuple[ColumnDrift, ...] = ()
    options: DriftOptions = field(default_factory=DriftOptions)
    missing_columns: tuple[str, ...] = ()  # in the reference, not in the current data
    new_columns: tuple[str, ...] = ()

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    @property
    def drifted(self) -> bool:
        return bool(self.drifted_columns or self.missing_columns)

    @property
    def rule(self) -> str:
        return (f"a column drifts when its test's Holm-adjusted p-value is below "
                f"{self.options.alpha:g} (samples up to {self.options.large} rows) or its "
                f"distance exceeds {self.options.threshold:g}; the dataset drifts when any "
                "column does or a column is missing")

    def to_json(self) -> dict[str, Any]:
        return {"reference": self.reference, "current": self.current,
                "rows_reference": self.rows_reference, "rows_current": self.rows_current,
                "drifted": self.drifted, "drifted_columns": self.drifted_columns,
                "missing_columns": list(self.missing_columns),
                "new_columns": list(self.new_columns), "rule": self.rule,
                "options": self.options.to_json(),
                "columns": [c.to_json() for c in self.columns]}


def compare(reference: Profile, current: Profile,
            options: DriftOptions | None = None,
            columns: Mapping[str, str] | None = None) -> DriftReport:
    """Drift of ``current`` against ``reference``, per shared column and for the dataset.

    ``columns`` restricts the comparison to these reference columns (current name -> ...);
    by default every column the two profiles share.
    """
    options = options or DriftOptions()
    ref_names = [c.name for c in reference.columns]
    cur_names = {c.name for c in current.columns}
    wanted = list(columns) if columns else ref_names
    results = []
    for name in wanted:
        ref, cur = reference.column(name), current.column(name)
        if ref is not None and cur is not None:
            results.append(column_drift(ref, cur, options))
    tested = _holm([r for r in results if r.p_value is not None], options.alpha)
    final = tuple(tested.get(r.column, r) for r in results)
    return DriftReport(reference=reference.name, current=current.name,
                       rows_reference=reference.rows, rows_current=current.rows,
                       columns=final, options=options,
                       missing_columns=tuple(n for n in wanted if n not in cur_names
                                             and reference.column(n) is not None),
                       new_columns=tuple(sorted(cur_names - set(ref_names)))
                       if not columns else ())


def column_drift(ref: ColumnProfile, cur: ColumnProfile, options: DriftOptions) -> ColumnDrift:
    """The statistic suited to the column's kind and the smaller sample's size."""
    small = min(ref.count, cur.count) <= options.large

    def result(statistic: str, score: float, p: float | None, threshold: float,
               drifted: bool, note: str | None = None) -> ColumnDrift:
        return ColumnDrift(column=ref.name, kind=ref.kind, statistic=statistic, score=score,
                           p_value=p, threshold=threshold, drifted=drifted,
                           n_reference=ref.count, n_current=cur.count, note=note)

    if ref.count == 0 or cur.count == 0:
        empty = "reference" if ref.count == 0 else "current"
        return result("schema", 1.0, None, 0.0, cur.count == 0 and ref.count > 0,
                      f"no values in the {empty} data")
    if as_counts((ref, cur)):
        _labels, a, b = merged_counts(ref, cur)
        if small:
            statistic, p = _chi_square(a, b)
            return result("chi2", statistic, p, options.alpha, p < options.alpha)
        distance = _jensen_shannon(a, b)
        return result("jensenshannon", distance, None, options.threshold,
                      distance > options.threshold)
    if ref.numeric is None or cur.numeric is None:
        return result("schema", 1.0, None, 0.0, True,
                      f"kind changed from {ref.kind} to {cur.kind}")
    qa = np.asarray(ref.numeric.quantiles)
    qb = np.asarray(cur.numeric.quantiles)
    if small:
        statistic, p = _ks(qa, qb, ref.count, cur.count)
        return result("ks", statistic, p, options.alpha, p < options.alpha)
    distance = _wasserstein(qa, qb, ref.numeric.std)
    return result("wasserstein", distance, None, options.threshold,
                  distance > options.threshold)


def sketch_cdf(points: np.ndarray[Any, Any],
               quantiles: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The CDF a percentile sketch describes, at ``points`` (right-continuous at ties)."""
    right = np.searchsorted(quantiles, points, side="right")
    inside = (right > 0) & (right < len(quantiles))
    result = np.where(right >= len(quantiles), 1.0, 0.0)
    idx = np.clip(right, 1, len(quantiles) - 1)
    lo, hi = quantiles[idx - 1], quantiles[idx]
    span = np.where(hi > lo, hi - lo, 1.0)
    interpolated = _PROBABILITIES[idx - 1] + (points - lo) / span * (
        _PROBABILITIES[idx] - _PROBABILITIES[idx - 1])
    return np.where(inside, interpolated, result)


def _ks(qa: np.ndarray[Any, Any], qb: np.ndarray[Any, Any], n: int,
        m: int) -> tuple[float, float]:
    from scipy.stats import kstwo

    points = np.union1d(qa, qb)
    gap = float(np.max(np.abs(sketch_cdf(points, qa) - sketch_cdf(points, qb))))
    effective = max(1, round(n * m / (n + m)))
    return gap, float(np.clip(kstwo.sf(gap, effective), 0.0, 1.0))


def _wasserstein(qa: np.ndarray[Any, Any], qb: np.ndarray[Any, Any], std: float) -> float:
    """W1 = the integral of |Qa(u) - Qb(u)| over u, divided by the reference's spread."""
    gaps = np.abs(qa - qb)
    distance = float(np.sum((gaps[1:] + gaps[:-1]) / 2.0) / (len(gaps) - 1))
    if std > 0:
        return distance / std
    return 0.0 if distance == 0 else float("inf")


def _chi_square(a: list[int], b: list[int]) -> tuple[float, float]:
    from scipy.stats import chi2_contingency

    table = np.array([a, b], dtype=np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    result = chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def _jensen_shannon(a: list[int], b: list[int]) -> float:
    from scipy.spatial.distance import jensenshannon

    pa = np.asarray(a, dtype=np.float64)
    pb = np.asarray(b, dtype=np.float64)
    return float(jensenshannon(pa / pa.sum(), pb / pb.sum()))


def _holm(tested: list[ColumnDrift], alpha: float) -> dict[str, ColumnDrift]:
    """Holm's step-down adjustment: adjusted p_(i) = max_{j<=i} (k - j + 1) p_(j)."""
    order = sorted(tested, key=lambda r: r.p_value or 0.0)
    k = len(order)
    adjusted: dict[str, ColumnDrift] = {}
    running = 0.0
    for rank, result in enumerate(order):
        running = max(running, min(1.0, (k - rank) * float(result.p_value or 0.0)))
        adjusted[result.column] = replace(result, adjusted_p=running,
                                          drifted=running < alpha)
    return adjusted
