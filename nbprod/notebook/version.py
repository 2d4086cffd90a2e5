"""A notebook's version: the SHA-256 of what determines its behaviour. Pure and cheap.

Works on nbformat nodes and on plain dicts from ``json.loads`` alike, so the linter can
version thousands of notebooks without importing nbformat.
"""

from __future__ import annotations

import hashlib
from typing import Any


def notebook_version(node: Any) -> str:
    """SHA-256 of the kernel name and each cell's type, tags and source.

    Outputs, execution counts and volatile metadata are excluded, so executing or re-saving
    a notebook does not change its version; editing any cell does.
    """
    digest = hashlib.sha256()
    spec = node["metadata"].get("kernelspec") or {}
    digest.update(f"kernel:{spec.get('name', '')}\n".encode())
    for cell in node["cells"]:
        tags = ",".join(sorted((cell.get("metadata") or {}).get("tags", [])))
        source = "\n".join(line.rstrip() for line in cell_source(cell).splitlines()).strip("\n")
        digest.update(f"{cell['cell_type']}\x00{tags}\x00{len(source)}\x00{source}\n".encode())
    return digest.hexdigest()


def cell_source(cell: Any) -> str:
    """A cell's source as one string (v4 allows a list of lines)."""
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) else str(source)
    return text.replace("\r\n", "\n")
