"""The HTML report of a run: nbconvert's lab template with HTML sanitized.

Rendered notebooks are untrusted (outputs can hold scripts), so the exporter runs with
``sanitize_html=True`` and JavaScript outputs are dropped. A header card (``card.py``) at the
top says which run the page shows. Importing nbconvert and loading its
templates costs ~0.5 s, so :class:`ReportRenderer` warms up on a background thread while the
kernel starts and runs, and the run pays only for the render itself.
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

from ..errors import ReportError
from ..notebook._nbformat import nbformat
from ..records import RunRecord
from .card import with_card

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
    # optimistic_validation: the notebook is validated once, after the preprocessors, not
    # after each of them (a dozen schema validations, ~1.5 ms each, in every report).
    exporter = _exporter_class()(sanitize_html=True, exclude_input_prompt=False,
                                 optimistic_validation=True)
    exporter.register_filter("clean_html", clean_html)
    exporter.from_notebook_node(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("print(1)"), nbformat.v4.new_markdown_cell("*x*")]))
    return exporter


# nbconvert's own clean_html filter (bleach, pure Python) with the same allowlist, done by nh3
# (Rust): the sanitizing was most of a report's render time for notebooks with tables.
_TAGS = {"a", "abbr", "acronym", "b", "blockquote", "code", "em", "i", "li", "ol", "strong",
         "ul", "div", "pre", "span", "table", "tr", "td", "thead", "tbody", "tfoot", "th",
         "caption", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6"}
_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "acronym": {"title"},
               "*": {"class", "id"}}


def clean_html(element: Any) -> str:
    """Sanitize HTML as nbconvert's ``clean_html`` filter does."""
    import nh3

    text = element.decode() if isinstance(element, bytes) else str(element)
    return nh3.clean(text, tags=_TAGS, attributes=_ATTRIBUTES, link_rel=None)


def _exporter_class() -> Any:
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class CachedHighlight(Highlight2HTML):
        """Pygments highlighting, remembered per cell source: the code cells of a sweep's
        points, or of a notebook run again, are the same text each time (~2 ms a cell)."""

        _cache: dict[tuple[Any, ...], str] = {}

        def __call__(self, source: str, language: str | None = None,
                     metadata: Any = None) -> str:
            magics = (metadata or {}).get("magics_language")
            key = (source, language or self.pygments_lexer, magics,
                   tuple(sorted((k, repr(v)) for k, v in self.extra_formatter_options.items())))
            html = self._cache.get(key)
            if html is None:
                if len(self._cache) >= _HIGHLIGHT_CACHE:
                    self._cache.clear()
                html = super().__call__(source, language, metadata)  # type: ignore[no-untyped-call]
                self._cache[key] = html
            return html

    class ReportExporter(HTMLExporter):
        """HTMLExporter without its final BeautifulSoup pass over the whole page.

        That pass (re-parsing ~300 KB to add alt texts and tab stops) was half the render
        time; images get their alt text from a cheap substitution instead.
        """

        def from_notebook_node(self, nb: Any, resources: Any = None,  # type: ignore[override]
                               **kw: Any) -> tuple[str, Any]:
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            register: Any = self.register_filter  # nbconvert's untyped API
            register("highlight_code", self.filters.get(
                "highlight_code",
                CachedHighlight(pygments_lexer=lexer, parent=self)))  # type: ignore[no-untyped-call]
            resources = self._init_resources(resources)  # type: ignore[no-untyped-call]
            register("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _IMG_WITHOUT_ALT.sub('<img alt="" ', html), resources

    return ReportExporter


_IMG_WITHOUT_ALT = re.compile(r"<img (?![^>]*\balt=)")
_HIGHLIGHT_CACHE = 2048  # cells remembered per process


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

    def render(self, node: Any, record: RunRecord | None = None) -> bytes:
        """The report for an executed notebook, as UTF-8 HTML; with ``record``, a header card
        at the top says which run it is (state, failure, parameters, values, lineage)."""
        self._thread.join()
        if self._exporter is None:
            raise ReportError(f"cannot render HTML reports: {self._error}")
        body, _resources = self._exporter.from_notebook_node(_without_scripts(node))
        page = str(body)
        if record is not None:
            page = with_card(page, record)
        return page.encode("utf-8")


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
