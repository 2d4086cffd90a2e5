"""A cap on live kernel templates: how many, and how much memory they hold together.

Each preload set and startup environment has a template of its own, and each idles for
``template_idle`` seconds before it exits by itself; without a cap, a day of notebooks with
different imports leaves one per set. Before a new template starts, and once it is ready, the
least recently used templates are stopped until at most ``templates`` run (the new one
included) and their memory — each template's PSS plus its spare kernel's (shared pages split
between the processes sharing them) — is at most ``memory`` bytes. A template with kernels
still running is busy and never stopped (its kernels' runs need it); the template just
started is never stopped either, so a cap can be exceeded while every other template is busy.

"Used" is the template's last fork (its start, if it has not forked yet).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """At most ``templates`` live templates holding at most ``memory`` bytes together."""

    templates: int = 3
    memory: int = 1536 * MB


def to_stop(running: Sequence[dict[str, Any]], limits: Limits, keep: str,
            starting: bool) -> list[dict[str, Any]]:
    """The templates (their ping answers) to stop, least recently used first.

    ``keep`` is the key of the template being started or just started; ``starting``: it
    is not running yet, so it needs a place of its own.
    """
    count = len(running) + (1 if starting else 0)
    memory = sum(int(t.get("memory", 0)) for t in running)
    stop = []
    idle = sorted((t for t in running if t["key"] != keep and not t.get("kernels")),
                  key=lambda t: float(t.get("used") or t.get("started") or 0.0))
    for template in idle:
        if count <= limits.templates and memory <= limits.memory:
            break
        stop.append(template)
        count -= 1
        memory -= int(template.get("memory", 0))
    return stop


def enforce(limits: Limits, keep: str, starting: bool,
            running: Callable[[], list[dict[str, Any]]],
            stop: Callable[[dict[str, Any]], None],
            itself: dict[str, Any] | None = None) -> int:
    """Stop what :func:`to_stop` names; how many were stopped. ``itself``: the template
    ``keep`` as :func:`running` would list it, when it does not list it."""
    listed = [*running(), *([itself] if itself is not None else [])]
    found = [{**t, "memory": memory_of(_pids(t))} for t in listed]
    chosen = to_stop(found, limits, keep, starting)
    for template in chosen:
        stop(template)
    return len(chosen)


def _pids(template: dict[str, Any]) -> list[int]:
    return [int(p) for p in (template.get("pid"), template.get("spare")) if p]


def memory_of(pids: Sequence[int]) -> int:
    """The PSS of these processes in bytes (0 for one that is gone or unreadable)."""
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) * 1024
                break
    return total
