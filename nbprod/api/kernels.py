"""Use cases: the kernel templates that fork fast kernels — list them, stop them."""

from __future__ import annotations

from typing import Any

from ..kernels.client import running_templates, stop_templates
from ..kernels.preload import BASE


def kernel_templates() -> list[dict[str, Any]]:
    """Every running template that answers: pid, key, preloaded modules, live kernels.

    ``modules`` is what it preloaded for notebooks (``preload`` without what every kernel
    imports).
    """
    return [{**data, "modules": [m for m in data.get("preload", []) if m not in BASE]}
            for data in running_templates()]


def stop_kernel_templates() -> int:
    """Stop every template; they start again on demand."""
    return stop_templates()


__all__ = ["kernel_templates", "stop_kernel_templates"]
