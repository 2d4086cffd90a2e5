"""nbprod/collector.py: the cycle collector is paused for a block and left as it was found,
also when the block raises or pauses are nested; a lint runs under the pause."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from nbprod import collector


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_then_on_again_even_after_an_error() -> None:
    with pytest.raises(ValueError), collector.paused():
        assert not gc.isenabled()
        raise ValueError("inside")
    assert gc.isenabled()


def test_nested_pauses_end_with_the_outer_one() -> None:
    with collector.paused():
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()


def test_a_lint_runs_with_the_collector_paused(tmp_path: Path) -> None:
    from nbprod.api import open_project
    from nbprod.api.lint import lint_notebooks
    from nbprod.config import Settings
    from nbprod.lint.catalog import RuleSet
    from nbprod.lint.config import LintConfig
    from nbprod.lint.model import Finding, LintContext, LintNotebook, Severity

    seen: list[bool] = []

    class Spy:
        code = "NBP999"
        name = "spy"
        severity: Severity = "info"
        summary = "records whether the collector runs"

        def check(self, notebook: LintNotebook, context: LintContext) -> list[Finding]:
            seen.append(gc.isenabled())
            return []

    (tmp_path / "a.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1")])))
    project = open_project(Settings(project_root=tmp_path), {})
    lint_notebooks(project, [tmp_path], LintConfig(ruff=False), rules=RuleSet((Spy(),)),
                   use_cache=False, record=False)

    assert seen == [False]
    assert gc.isenabled()
