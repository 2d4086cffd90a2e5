"""nbprod: take parameterized Jupyter notebooks to production.

Inside a notebook::

    import nbprod
    nbprod.record("accuracy", acc)                 # a value of this run
    model_file = nbprod.output_path("model.joblib")  # a file stored with this run
    data = nbprod.step_path("prepare", "train.csv")  # a file an earlier step of the job wrote
    nbprod.profile(frame, "scoring_input")           # a data profile (and its data checks)

Importing this package is cheap on purpose (it runs in every production kernel): the library
(``nbprod.api``) and its dependencies load only when used, and so does the notebook panel
(``nbprod.widgets.panel()``, ipywidgets).
"""

from __future__ import annotations

from .about import __version__

TYPE_CHECKING = False  # without importing typing (every nbprod command imports this package)
if TYPE_CHECKING:
    from .execute.capture import output_path, profile, record, step_path

__all__ = ["__version__", "output_path", "profile", "record", "step_path"]

_CAPTURE = frozenset({"output_path", "profile", "record", "step_path"})


def __getattr__(name: str) -> object:
    """The notebook functions and ``nbprod.widgets``, imported on first use: every ``nbprod``
    command imports this package first, and its launcher needs none of them."""
    import importlib

    if name in _CAPTURE:
        value = getattr(importlib.import_module(".execute.capture", __name__), name)
        globals()[name] = value
        return value
    if name == "widgets":
        return importlib.import_module(".widgets", __name__)
    raise AttributeError(f"module 'nbprod' has no attribute {name!r}")
