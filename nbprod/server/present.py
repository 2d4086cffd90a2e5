"""How pages show values: durations, times, sizes, hashes, long values cut short.

Registered as Jinja filters on the extension's template environment (autoescaped: these return
plain text, never markup).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ..records import format_duration

NONE = "\N{EN DASH}"  # what an empty cell shows


def duration(seconds: float | None) -> str:
    return NONE if seconds is None else format_duration(seconds)


def _as_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def ago(value: Any) -> str:
    """``5 min ago``; older than a day: the date."""
    when = _as_datetime(value)
    if when is None:
        return NONE
    delta = (dt.datetime.now(dt.UTC) - when).total_seconds()
    if delta < 60:
        return f"{max(0, int(delta))} s ago"
    if delta < 3600:
        return f"{int(delta // 60)} min ago"
    if delta < 86400:
        return f"{int(delta // 3600)} h ago"
    return when.strftime("%Y-%m-%d %H:%M")


def when(value: Any) -> str:
    """The full UTC time (for a tooltip)."""
    moment = _as_datetime(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else NONE


def short(value: Any, width: int = 48) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def number(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    return short(value, 32)


def precise(value: Any) -> str:
    """A value for a side-by-side comparison: floats to 10 significant digits."""
    if value is None:
        return NONE
    if isinstance(value, float):
        return f"{value:.10g}"
    return short(value, 60)


def size(value: int | None) -> str:
    if value is None:
        return NONE
    amount = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{int(amount)} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GB"


def sha(value: str | None, width: int = 12) -> str:
    return (value or NONE)[:width]


def pairs(mapping: dict[str, Any], limit: int = 3) -> str:
    """``a=1  b=x  (+2)``: the first few items of a mapping, for a table cell."""
    items = list(mapping.items())
    text = "  ".join(f"{k}={number(v)}" for k, v in items[:limit])
    return text + (f"  (+{len(items) - limit})" if len(items) > limit else "")


FILTERS = {"duration": duration, "ago": ago, "when": when, "short": short, "number": number,
           "precise": precise,
           "size": size, "sha": sha, "pairs": pairs}
