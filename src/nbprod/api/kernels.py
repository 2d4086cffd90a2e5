"""Use cases: the kernel templates that fork fast kernels — list them, stop them."""

from __future__ import annotations

from typing import Any

from ..kernels.client import running_templates, stop_templates


def kernel_templates() -> list[dict[str, Any]]:
    """Every running template that answers: pid, key, preloaded modules, live kernels."""
    return running_templates()


def stop_kernel_templates(key: str | None = None) -> int:
    """Stop every template (or the one with ``key``); they start again on demand."""
    return stop_templates(key)


__all__ = ["kernel_templates", "stop_kernel_templates"]
