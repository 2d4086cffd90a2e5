"""Numeric tolerance for text outputs: "0.91234" matches "0.91235" within rel=1e-4.

nbval compares outputs as exact text. Before it does, the saved (reference) and fresh (test)
texts are split into numbers and the text between them; when the text between is identical
and every pair of numbers is close, the fresh text is replaced by the reference, so nbval sees
a match. Anything else is left for nbval to report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_TEXT_KEYS = ("text/plain", "text/html", "text/markdown", "text/latex")


@dataclass(frozen=True)
class Tolerance:
    rel: float = 0.0
    abs: float = 0.0

    @property
    def active(self) -> bool:
        return self.rel > 0 or self.abs > 0

    def close(self, left: str, right: str) -> bool:
        try:
            a, b = float(left), float(right)
        except ValueError:
            return False
        return math.isclose(a, b, rel_tol=self.rel, abs_tol=self.abs)


def align_text(test: str, ref: str, tolerance: Tolerance) -> str:
    """``ref`` if ``test`` differs from it only by numbers within tolerance, else ``test``."""
    if test == ref or not tolerance.active:
        return test
    test_numbers, ref_numbers = _NUMBER.findall(test), _NUMBER.findall(ref)
    if len(test_numbers) != len(ref_numbers) or not test_numbers:
        return test
    if _NUMBER.split(test) != _NUMBER.split(ref):
        return test
    if all(t == r or tolerance.close(t, r) for t, r in zip(test_numbers, ref_numbers,
                                                           strict=True)):
        return ref
    return test


def merge_streams(outputs: Sequence[Any]) -> list[Any]:
    """Consecutive stream outputs of the same name joined into one (as nbval does)."""
    merged: list[Any] = []
    for output in outputs:
        if (merged and output.get("output_type") == "stream"
                and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == output.get("name")):
            previous = dict(merged[-1])
            previous["text"] = _joined(previous.get("text")) + _joined(output.get("text"))
            merged[-1] = type(output)(previous) if isinstance(output, dict) else previous
        else:
            merged.append(output)
    return merged


def align_outputs(test: Sequence[Any], ref: Sequence[Any],
                  tolerance: Tolerance) -> list[Any]:
    """Fresh outputs with numbers pulled to the reference where they are within tolerance."""
    test_list, ref_list = merge_streams(test), merge_streams(ref)
    if not tolerance.active or len(test_list) != len(ref_list):
        return test_list
    aligned = []
    for fresh, saved in zip(test_list, ref_list, strict=True):
        fresh = type(fresh)(fresh)
        if fresh.get("output_type") == "stream" and saved.get("output_type") == "stream":
            fresh["text"] = align_text(_joined(fresh.get("text")), _joined(saved.get("text")),
                                       tolerance)
        data, saved_data = fresh.get("data"), saved.get("data")
        if isinstance(data, dict) and isinstance(saved_data, dict):
            data = type(data)(data)
            for key in _TEXT_KEYS:
                if key in data and key in saved_data:
                    data[key] = align_text(_joined(data[key]), _joined(saved_data[key]),
                                           tolerance)
            fresh["data"] = data
        aligned.append(fresh)
    return aligned


def _joined(value: Any) -> str:
    if value is None:
        return ""
    return "".join(value) if isinstance(value, list) else str(value)
