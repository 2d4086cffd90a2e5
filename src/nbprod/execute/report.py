"""The HTML report of a run: nbconvert's lab template with HTML sanitized.

Rendered notebooks are untrusted (outputs can hold scripts), so the exporter runs with
``sanitize_html=True`` and JavaScript outputs are dropped. Importing nbconvert and loading its
templates costs ~0.5 s, so :class:`ReportRenderer` warms up on a background thread while the
kernel starts and runs, and the run pays only for the render itself.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from ..notebook._nbformat import nbformat

_UNSAFE_MIME = ("application/javascript", "application/vnd.jupyter.widget-state+json",
                "application/vnd.jupyter.widget-view+json")
# Values glued by scrapbook/papermill: data for nbprod, nothing to show.
_DATA_ONLY = ("application/scrapbook.scrap.", "application/papermill.record")


def preload() -> None:
    """Import nbconvert and build the exporter now (before forking workers that render)."""
    warm_exporter()


@functools.lru_cache(maxsize=1)
def warm_exporter() -> Any:
    """The process's HTML exporter, templates loaded (a cache: built once per process).

    Building it costs ~0.5 s (regular expressions and Jinja templates compile on first use);
    rendering with a built one costs milliseconds. Forked workers and the warm CLI inherit it.
    """
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(sanitize_html=True, exclude_input_prompt=False)
    exporter.from_notebook_node(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("print(1)"), nbformat.v4.new_markdown_cell("*x*")]))
    return exporter


class ReportRenderer:
    """Gets the warm exporter on a background thread; :meth:`render` waits for it."""

    def __init__(self) -> None:
        self._exporter: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._warm, name="nbprod-report", daemon=True)
        self._thread.start()

    def _warm(self) -> None:
        try:
            self._exporter = warm_exporter()
        except Exception as exc:
            self._error = exc

    def render(self, node: Any) -> bytes:
        """The report for an executed notebook, as UTF-8 HTML."""
        self._thread.join()
        if self._exporter is None:
            raise RuntimeError(f"cannot render HTML reports: {self._error}")
        body, _resources = self._exporter.from_notebook_node(_without_scripts(node))
        return str(body).encode("utf-8")


def _without_scripts(node: Any) -> Any:
    import copy

    safe = copy.deepcopy(node)
    safe.metadata.pop("widgets", None)
    for cell in safe.cells:
        if "outputs" not in cell:
            continue
        kept = []
        for output in cell.outputs:
            data = output.get("data")
            if data:
                for mime in [m for m in data if m in _UNSAFE_MIME or m.startswith(_DATA_ONLY)]:
                    data.pop(mime, None)
                if not data:
                    continue  # nothing left to show
            kept.append(output)
        cell.outputs = kept
    return safe
