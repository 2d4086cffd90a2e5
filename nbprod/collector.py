"""Pausing Python's cycle collector around work that allocates much and makes no cycles.

Reference counting frees what such work drops; the collector would only walk the new objects
again and again while they pile up (a page of 100,000 listed runs, a cold lint's decoded
notebooks and findings: a tenth of either). The pause is process-wide, as the collector is:
in a threaded process (the Jupyter server) other threads' cyclic garbage waits until the
pause ends, which is a memory cost for its length and nothing else. Nested or concurrent
pauses leave the collector as the first one found it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The cycle collector off for the block (if it was on), then on again."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
