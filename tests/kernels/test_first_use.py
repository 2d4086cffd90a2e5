"""A template does once the first-use work of the libraries it holds that each kernel would
repeat (preload.FIRST_USE): narwhals' scan of every distribution's entry points, which
scikit-learn's input validation triggers on a DataFrame. A forked kernel inherits the result,
the same a plain kernel finds."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbprod.api import Project
from nbprod.kernels import preload

from .helpers import assert_forked, assert_plain, require, run, succeeded, write_notebook

pytestmark = pytest.mark.slow

PROBE = ("import importlib.metadata, narwhals.plugins, nbprod\n"
         "found = narwhals.plugins._discover_entrypoints\n"
         "nbprod.record('cached', found.cache_info().currsize)\n"
         "fresh = importlib.metadata.entry_points(group='narwhals.plugins')\n"
         "nbprod.record('same', sorted(map(str, found())) == sorted(map(str, fresh)))")


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_a_forked_kernel_has_narwhals_plugins_looked_up(
        project: Project, project_dir: Path, fast: bool) -> None:
    require("narwhals")
    path = write_notebook(project_dir / "nb" / "plugins.ipynb", PROBE)
    record = succeeded(run(project, path, fast=fast))
    if fast:
        assert_forked(record, path)
    else:
        assert_plain(record)
    assert record.values["cached"] == (1 if fast else 0)  # done before the kernel ran
    assert record.values["same"] is True


def test_what_cannot_be_warmed_is_left_to_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    def broken() -> None:
        raise RuntimeError("no plugins today")

    called: list[str] = []
    module = types.ModuleType("nbprod_test_first_use")
    module.works = lambda: called.append("works")  # type: ignore[attr-defined]
    module.broken = broken  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(preload, "FIRST_USE", (
        (module.__name__, "broken"), (module.__name__, "works"), (module.__name__, "absent"),
        ("nbprod_test_not_loaded", "anything")))
    assert preload.warm_first_use() == [f"{module.__name__}.works"]
    assert called == ["works"]
