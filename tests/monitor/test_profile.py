"""Profiles: kinds, exact summaries, a size bounded whatever the row count, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from nbprod.monitor.checks import CheckSpecError, run_checks
from nbprod.monitor.drift import compare
from nbprod.monitor.profile import Profile, profile_frame
from nbprod.monitor.report import render_html


def frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": rng.normal(0, 1, rows),
        "n": rng.integers(0, 3, rows),
        "flag": rng.random(rows) < 0.5,
        "city": rng.choice(["berlin", "paris", "rome"], size=rows),
        "note": [f"free text {i}" for i in range(rows)],
        "when": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 10**6, rows),
                                                              unit="s"),
    })


def test_kinds_and_exact_summaries() -> None:
    data = frame(5000)
    data.loc[:9, "x"] = np.nan
    profile = profile_frame(data, "input")
    assert profile.schema == {"x": "numeric", "n": "numeric", "flag": "boolean",
                              "city": "categorical", "note": "text", "when": "datetime"}
    x = profile.column("x")
    assert x is not None and x.numeric is not None
    assert (x.count, x.missing) == (4990, 10)
    present = data["x"].dropna()
    assert x.numeric.quantiles[50] == pytest.approx(float(present.median()))
    assert x.numeric.mean == pytest.approx(float(present.mean()))
    assert sum(x.numeric.counts) == 4990
    n = profile.column("n")
    assert n is not None and n.counts == {str(k): int(v) for k, v in
                                          data["n"].value_counts().items()}
    assert profile.column("note").distinct == 5000  # type: ignore[union-attr]


def test_size_is_bounded_whatever_the_row_count() -> None:
    small = len(json.dumps(profile_frame(frame(1000), "a").to_json()))
    large = len(json.dumps(profile_frame(frame(200_000), "a").to_json()))
    assert large < 1.2 * small + 2000


def test_json_round_trip_and_drift_of_identical_data() -> None:
    profile = profile_frame(frame(3000), "input")
    again = Profile.from_json(json.loads(json.dumps(profile.to_json())))
    assert again == profile
    report = compare(profile, again)
    assert not report.drifted and len(report.columns) == 6


def test_html_report_holds_binned_summaries_only() -> None:
    a, b = profile_frame(frame(2000, 1), "ref"), profile_frame(frame(200_000, 2), "cur")
    report = compare(a, b)
    page = render_html(report, a, b)
    assert page.startswith("<!doctype html>") and "<script" not in page
    assert "free text 1234" not in page  # the top values of a text column, not its rows
    bigger = profile_frame(frame(400_000, 3), "cur")
    assert abs(len(render_html(compare(a, bigger), a, bigger)) - len(page)) < 2000


def test_missing_and_new_columns_are_reported() -> None:
    a = profile_frame(frame(500), "ref")
    b = profile_frame(frame(500).drop(columns=["city"]).assign(extra=1), "cur")
    report = compare(a, b)
    assert report.missing_columns == ("city",) and report.new_columns == ("extra",)
    assert report.drifted


def test_data_checks_count_the_rows_that_break_each_rule() -> None:
    data = pd.DataFrame({"age": [1, 200, 3, None, 500], "city": ["a", "b", "z", "a", "a"],
                         "id": [1, 2, 2, 3, 4]})
    profile = profile_frame(data, "people")
    results = run_checks(data, profile, {
        "rows": {"min": 10},
        "columns": {"age": {"type": "numeric", "min": 0, "max": 120, "max_missing": 0.0},
                    "city": {"allowed": ["a", "b"]}, "id": {"unique": True}, "zip": {}}})
    broken = {(r.column, r.rule): r.failing_rows for r in results if not r.passed}
    assert broken == {(None, "rows >= 10"): 5, ("age", "max_missing 0"): 1,
                      ("zip", "required"): 5, ("age", "max 120"): 2,
                      ("city", "allowed values"): 1, ("id", "unique"): 2}
    assert {(r.column, r.rule) for r in results if r.passed} == {
        ("age", "type numeric (is numeric)"), ("age", "min 0")}


def test_a_pandera_schema_is_accepted_in_code() -> None:
    import pandera.pandas as pa

    data = pd.DataFrame({"age": [1, 200, 3]})
    schema = pa.DataFrameSchema({"age": pa.Column(int, pa.Check.le(120))})
    results = run_checks(data, profile_frame(data, "p"), schema)
    assert [(r.column, r.failing_rows, r.passed) for r in results] == [("age", 1, False)]


@pytest.mark.parametrize(("spec", "message"), [
    ({"row": {}}, "unknown data check 'row'"),
    ({"columns": {"a": {"maximum": 3}}}, "unknown rule 'maximum'"),
    ({"columns": {"a": {"type": "float"}}}, "type must be one of"),
    ({"rows": {"min": "ten"}}, "rows must be a table"),
])
def test_wrong_check_declarations_are_named(spec: dict[str, object], message: str) -> None:
    data = pd.DataFrame({"a": [1]})
    with pytest.raises(CheckSpecError, match=message):
        run_checks(data, profile_frame(data, "p"), spec)
