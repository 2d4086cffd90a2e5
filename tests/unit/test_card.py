"""The header card of a run's report: which run, its state, failure, parameters, values, all
escaped (parameters and values come from users and notebooks)."""

from __future__ import annotations

import datetime as dt

from nbprod.execute.card import header_card, with_card
from nbprod.execute.report import ReportRenderer
from nbprod.notebook._nbformat import nbformat
from nbprod.records import Failure, Lineage, RunRecord

START = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _record(**changes: object) -> RunRecord:
    base = {"run_id": "20260301-120000-000-k3m9x2", "notebook": "notebooks/train.ipynb",
            "notebook_version": "ab" * 32, "state": "succeeded", "started_at": START,
            "ended_at": START + dt.timedelta(seconds=12.5),
            "parameters": {"alpha": 0.5, "label": "<script>alert(1)</script>"},
            "values": {"accuracy": 0.9534883720930233},
            "lineage": Lineage(git_commit="c0ffee" * 6, git_dirty=True, user="alice",
                               host="box", environment_digest="e" * 64, python="3.11.7",
                               kernel="python3"),
            "job_run_id": "20260301-115900-000-aaaaaa", "step": "train"}
    base.update(changes)
    return RunRecord(**base)  # type: ignore[arg-type]


def test_the_card_names_the_run_and_escapes_what_users_wrote() -> None:
    card = header_card(_record())
    assert "nbprod run 20260301-120000-000-k3m9x2" in card
    assert "succeeded" in card and "12.5 s" in card and "alice on box" in card
    assert "c0ffeec0ffee (uncommitted changes)" in card
    assert "0.953488" in card  # floats to 6 significant digits
    assert "job run" in card and "step train" in card
    assert "<script>" not in card and "&lt;script&gt;alert(1)&lt;/script&gt;" in card


def test_a_failed_run_s_card_says_where_and_why() -> None:
    failure = Failure(kind="cell_error", message="cell 3 raised ValueError: bad", cell_index=3,
                      ename="ValueError", evalue="bad <b>input</b>")
    card = header_card(_record(state="failed", failure=failure))
    assert "cell_error</strong> in cell 3: ValueError: bad &lt;b&gt;input&lt;/b&gt;" in card


def test_the_card_goes_at_the_top_of_the_body() -> None:
    page = with_card("<html><head></head><body class='x'><p>report</p></body></html>",
                     _record())
    assert page.index("<body class='x'>") < page.index('id="nbprod-run"') < \
        page.index("<p>report</p>")
    assert with_card("<p>no body</p>", _record()).endswith("<p>no body</p>")


def test_the_rendered_report_carries_the_card() -> None:
    node = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    html = ReportRenderer().render(node, _record()).decode()
    assert html.count('id="nbprod-run"') == 1
    assert html.index('id="nbprod-run"') < html.index("1</span>")
    assert 'id="nbprod-run"' not in ReportRenderer().render(node).decode()
