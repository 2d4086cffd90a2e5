"""nbformat, imported without jsonschema's IRI grammar.

``import nbformat`` imports jsonschema, whose format checkers import the optional
``rfc3987_syntax`` package; with jupyter-server installed that package exists and builds its
grammar at import, about 0.9 s in every process. nbformat's schemas use no IRI formats, so
nbprod's own processes block that optional import before nbformat loads it. Nothing changes
when jsonschema was already imported by someone else (a Jupyter server hosting nbprod).
"""

from __future__ import annotations

import sys

if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

import nbformat

__all__ = ["nbformat"]
