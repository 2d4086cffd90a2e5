"""Small formatting helpers shared by the rules."""

from __future__ import annotations


def human_size(size: int) -> str:
    """``3.4 MB``, ``12.0 kB``, ``512 bytes``."""
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"
