"""nbprod's built-in lint rules, one module each.

They are registered like third-party rules, through the ``nbprod.lint_rules`` entry-point
group in pyproject.toml; nothing here is imported by a registry at import time.
:func:`import_builtin` imports them all ahead of use: :mod:`nbprod.api.lint` calls it when it
is imported, so the warm nbprod (which imports that before forking a child per command) has
their regexes compiled once, and loading the entry points finds the modules loaded.
"""

from __future__ import annotations

import importlib
import pkgutil


def import_builtin() -> None:
    """Import every module of this package."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
