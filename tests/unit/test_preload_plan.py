"""Which modules a notebook's cells import (what its template preloads): IPython syntax
blanked, relative imports and unparsable cells left out; each cell parsed once a process."""

from __future__ import annotations

from nbprod.kernels import preload

CELLS = [
    "%matplotlib inline\nimport numpy as np, json\nfrom os import path",
    "!pip list\nfrom . import local\nfrom sklearn.ensemble import RandomForestClassifier",
    "def f(:\n    import never",  # not Python: nothing from it
    "x = 1  # no import statement",
]


def test_imports_of_code_cells() -> None:
    assert preload.imported_modules(CELLS) == {"numpy", "json", "os", "sklearn.ensemble"}


def test_each_cell_is_parsed_once_and_callers_get_their_own_set() -> None:
    preload._remembered.cache_clear()
    first = preload.imported_modules(CELLS)
    first.add("changed by the caller")
    parsed = preload._remembered.cache_info()
    again = preload.imported_modules(CELLS)
    assert again == {"numpy", "json", "os", "sklearn.ensemble"}
    info = preload._remembered.cache_info()
    assert (info.misses, info.hits) == (parsed.misses, parsed.hits + 4)  # 4 say "import"


def test_a_long_cell_is_parsed_but_not_remembered() -> None:
    preload._remembered.cache_clear()
    long_cell = "import csv\n" + "y = 2\n" * (preload._LONGEST // 6)
    assert preload.imported_modules([long_cell]) == {"csv"}
    assert preload._remembered.cache_info().currsize == 0


def test_install_roots_are_worked_out_once() -> None:
    assert preload.install_roots() is preload.install_roots()
    assert all(root.endswith("/") for root in preload.install_roots())
