"""The HTML report of a run: nbconvert's lab template with HTML sanitized.

Rendered notebooks are untrusted (outputs can hold scripts), so the exporter runs with
``sanitize_html=True`` and JavaScript outputs are dropped. A header card (``card.py``) at the
top says which run the page shows. Importing nbconvert and loading its
templates costs ~0.5 s, so :class:`ReportRenderer` warms up on a background thread while the
kernel starts and runs, and the run pays only for the render itself.
"""

from __future__ import annotations

import contextlib
import functools
import queue
import re
import sys
import threading
from collections.abc import Callable, Iterator
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


def rehearse_report() -> None:
    """What a run does with its notebook after the cells, once, on a small sample with
    outputs: written as the stored notebook, read back, rendered with its header card. The
    warm nbprod's spare does this before it takes a command (see cli/spare.py)."""
    import datetime as dt

    from ..notebook.load import parse_notebook
    from ..notebook.write import notebook_json

    v4 = nbformat.v4
    node = v4.new_notebook(cells=[
        v4.new_markdown_cell("# Warm-up\n\n*A* `sample`."),
        v4.new_code_cell("n: int = 1  # a number", metadata={"tags": ["parameters"]}),
        v4.new_code_cell("print(n)\nn", execution_count=1, outputs=[
            v4.new_output("stream", name="stdout", text="1\n"),
            v4.new_output("execute_result", execution_count=1, data={
                "text/plain": "1", "text/html": "<table><tr><td>1</td></tr></table>"})])])
    node.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    parse_notebook(notebook_json(node), "warm-up.ipynb")
    body, _resources = warm_exporter().from_notebook_node(_without_scripts(node))
    now = dt.datetime.now(dt.UTC)
    with_card(str(body), RunRecord(run_id="warm-up", notebook="warm-up.ipynb",
                                   notebook_version="v", state="succeeded", started_at=now,
                                   ended_at=now, parameters={"n": 1}, values={"x": 1.0}))


# nbconvert's own clean_html filter (bleach, pure Python) with the same allowlist, done by nh3
# (Rust): the sanitizing was most of a report's render time for notebooks with tables.
_TAGS = {"a", "abbr", "acronym", "b", "blockquote", "code", "em", "i", "li", "ol", "strong",
         "ul", "div", "pre", "span", "table", "tr", "td", "thead", "tbody", "tfoot", "th",
         "caption", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6"}
_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "acronym": {"title"},
               "*": {"class", "id"}}


def clean_html(element: Any) -> str:
    """Sanitize HTML as nbconvert's ``clean_html`` filter does (remembered per text: a
    notebook run again, or a sweep's points, shows mostly the same cells and tables)."""
    text = element.decode() if isinstance(element, bytes) else str(element)
    return _CLEANED.get(text, _clean)


def _clean(text: str) -> str:
    import nh3

    return nh3.clean(text, tags=_TAGS, attributes=_ATTRIBUTES, link_rel=None)


class _Memo:
    """Results of a pure function of a string key, kept per process: at most ``entries``,
    none whose key is longer than ``longest`` characters; emptied when full."""

    def __init__(self, entries: int, longest: int) -> None:
        self.entries = entries
        self.longest = longest
        self._kept: dict[Any, str] = {}

    def get(self, key: Any, compute: Callable[[Any], str]) -> str:
        found = self._kept.get(key)
        if found is None:
            found = compute(key)
            if _length(key) <= self.longest:
                if len(self._kept) >= self.entries:
                    self._kept.clear()
                self._kept[key] = found
        return found


def _length(key: Any) -> int:
    return len(key) if isinstance(key, str) else sum(len(k) for k in key if isinstance(k, str))


# Texts up to 256 KB (a big table is sanitized each time): a few MB per process at most.
_CLEANED = _Memo(entries=1024, longest=256 * 1024)


def _exporter_class() -> Any:
    from jinja2 import pass_context
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class CachedHighlight(Highlight2HTML):
        """Pygments highlighting, remembered per cell source: the code cells of a sweep's
        points, or of a notebook run again, are the same text each time (~2 ms a cell)."""

        _cache = _Memo(entries=_HIGHLIGHT_CACHE, longest=1024 * 1024)

        def __call__(self, source: str, language: str | None = None,
                     metadata: Any = None) -> str:
            magics = (metadata or {}).get("magics_language")
            key = (source, language or self.pygments_lexer, magics,
                   tuple(sorted((k, repr(v)) for k, v in self.extra_formatter_options.items())))
            highlight: Any = super().__call__  # nbconvert's untyped filter

            return self._cache.get(key, lambda _key: str(highlight(source, language, metadata)))

    class ReportExporter(HTMLExporter):
        """HTMLExporter without its final BeautifulSoup pass over the whole page.

        That pass (re-parsing ~300 KB to add alt texts and tab stops) was half the render
        time; images get their alt text from a cheap substitution instead. What depends only
        on the notebook's text (a markdown cell's HTML, the highlighter for a language) and
        the page's fixed parts (its style sheets) are made once per process, not per report.
        """

        _highlighters: dict[Any, Any] = {}
        _markdown = _Memo(entries=2048, longest=64 * 1024)
        _css: dict[str, Any] = {}

        def from_notebook_node(self, nb: Any, resources: Any = None,  # type: ignore[override]
                               **kw: Any) -> tuple[str, Any]:
            register: Any = self.register_filter  # nbconvert's untyped API
            register("highlight_code", self.filters.get("highlight_code") or
                     self._highlighter(nb))
            resources = self._init_resources(resources)
            register("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _IMG_WITHOUT_ALT.sub('<img alt="" ', html), resources

        def _highlighter(self, nb: Any) -> Any:
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight = self._highlighters.get(lexer)
            if highlight is None:
                highlight = CachedHighlight(pygments_lexer=lexer, parent=self)  # type: ignore[no-untyped-call]
                self._highlighters[lexer] = highlight
            return highlight

        def prime(self, nb: Any) -> None:
            """Make ``nb``'s cells as the page's template does, so that rendering the
            executed notebook finds them remembered: each code cell highlighted and
            sanitized (``cell.source | highlight_code(metadata=cell.metadata) |
            clean_html``), each markdown cell converted and sanitized (``cell.source |
            markdown2html | strip_files_prefix | clean_html``; not one with attachments)."""
            from nbconvert.filters import strip_files_prefix

            highlight = None if "highlight_code" in self.filters else self._highlighter(nb)
            context: dict[str, Any] = {"resources": {"metadata": {}}}  # as a render's
            for cell in nb.cells:
                kind = cell.get("cell_type")
                if kind == "code" and highlight is not None:
                    clean_html(highlight(cell.source, metadata=cell.get("metadata")))
                elif kind == "markdown" and not cell.get("attachments") and \
                        not self.embed_images:
                    clean_html(strip_files_prefix(self.markdown2html(
                        {**context, "cell": cell}, cell.source)))

        def prime_outputs(self, cell: Any) -> None:
            """Sanitize a finished cell's HTML outputs as the template will
            (``output.data['text/html'] | clean_html``)."""
            for output in cell.get("outputs", ()):
                html = (output.get("data") or {}).get("text/html")
                if isinstance(html, str):
                    clean_html(html)

        def _init_resources(self, resources: Any) -> Any:
            resources = super()._init_resources(resources)  # type: ignore[no-untyped-call]
            include_css = resources["include_css"]

            def remembered_css(name: str) -> Any:  # the installed template's files
                if name not in self._css:
                    self._css[name] = include_css(name)
                return self._css[name]

            resources["include_css"] = remembered_css
            return resources

        @pass_context
        def markdown2html(self, context: Any, source: str) -> str:
            """nbconvert's markdown filter, remembered per cell text (and notebook folder);
            cells with attachments, or with images embedded from files, are rendered each
            time."""
            if self.embed_images or context.get("cell", {}).get("attachments"):
                return str(super().markdown2html(context, source))
            path = context.get("resources", {}).get("metadata", {}).get("path", "")
            return self._markdown.get(
                (source, path),
                lambda key: str(super(ReportExporter, self).markdown2html(
                    context, source)))

    return ReportExporter


_IMG_WITHOUT_ALT = re.compile(r"<img (?![^>]*\balt=)")
_HIGHLIGHT_CACHE = 2048  # cells remembered per process


class ReportRenderer:
    """Gets the warm exporter on a background thread, which then primes the report with the
    notebook's cells while they run (:meth:`prime`), and with each cell's outputs once it
    has finished (:meth:`cell_done`); :meth:`render` waits for it. :meth:`close` releases
    a thread that was never given a notebook to prime."""

    def __init__(self) -> None:
        self._exporter: Any = None
        self._error: BaseException | None = None
        self._to_prime: Any = None
        self._go = threading.Event()  # set: a notebook to prime, or none will come
        self._done: queue.SimpleQueue[int | None] = queue.SimpleQueue()  # None: no more
        self._warm = threading.Event()  # set: the exporter is warm (or failed)
        # Held while the thread primes; render takes it and tells the thread to stop, so
        # it renders without waiting for the thread to wake up and end.
        self._priming = threading.Lock()
        self._rendering = False
        self._thread = threading.Thread(target=self._work, name="nbprod-report", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            self._exporter = warm_exporter()
        except Exception as exc:
            self._error = exc
            return
        finally:
            self._warm.set()
        self._go.wait()
        if self._to_prime is None:
            return
        self._primed(lambda: self._exporter.prime(self._to_prime))
        cells = self._to_prime.cells
        while (index := self._done.get()) is not None:
            if not self._primed(lambda: self._exporter.prime_outputs(cells[index])):
                return

    def _primed(self, work: Callable[[], None]) -> bool:
        """Do ``work`` unless the page is being rendered (then False: nothing more to do).
        Best effort: what fails here is rendered (or reported) by render."""
        with self._priming:
            if self._rendering:
                return False
            with _quick_switches(), contextlib.suppress(Exception):
                work()
        return True

    def prime(self, node: Any) -> None:
        """Highlight the notebook's code cells and convert its markdown cells on the
        renderer's thread while its kernel runs them (once; a later call, after a retried
        start, is ignored).

        A process forked from the warm nbprod renders one report: its first highlighting
        of the cells (pygments, ~4 ms a cell) was on the run's path, after the last cell.
        The thread is the one that warmed the exporter, started with the run: a thread
        started now would compete with the first cells for the interpreter just as it
        starts (~2.5 ms of the run's path). While it primes, the interpreter switches
        threads every 0.2 ms instead of 5 ms, so that the runner's thread, woken by a
        kernel message, does not wait for it.
        """
        if not self._go.is_set():
            self._to_prime = node
            self._go.set()

    def cell_done(self, index: int) -> None:
        """Cell ``index`` of the notebook being primed has finished: its outputs are
        sanitized on the renderer's thread while the next cell runs (in a fresh process
        nothing of them is remembered; a table or an estimator's HTML costs ~1 ms)."""
        if self._to_prime is not None:
            self._done.put(index)

    def close(self) -> None:
        """No notebook (or cell) will be primed: the thread ends once the exporter is warm
        and what it was given is primed."""
        self._go.set()
        self._done.put(None)

    def render(self, node: Any, record: RunRecord | None = None) -> bytes:
        """The report for an executed notebook, as UTF-8 HTML; with ``record``, a header card
        at the top says which run it is (state, failure, parameters, values, lineage)."""
        self.close()
        self._warm.wait()
        if self._exporter is None:
            raise ReportError(f"cannot render HTML reports: {self._error}")
        with self._priming:  # once what is being primed is done; the thread then stops
            self._rendering = True
        body, _resources = self._exporter.from_notebook_node(_without_scripts(node))
        page = str(body)
        if record is not None:
            page = with_card(page, record)
        return page.encode("utf-8")


_SWITCHES = threading.Lock()
_primers = {"running": 0, "interval": 0.005}  # primers running; the interval they replaced


@contextlib.contextmanager
def _quick_switches() -> Iterator[None]:
    """Thread switches every 0.2 ms while at least one primer runs (then as before)."""
    with _SWITCHES:
        if not _primers["running"]:
            _primers["interval"] = sys.getswitchinterval()
            sys.setswitchinterval(min(_primers["interval"], 0.0002))
        _primers["running"] += 1
    try:
        yield
    finally:
        with _SWITCHES:
            _primers["running"] -= 1
            if not _primers["running"]:
                sys.setswitchinterval(_primers["interval"])


def _without_scripts(node: Any) -> Any:
    """The notebook without what the page must not run or show (JavaScript, widget state,
    values glued for nbprod). It shares ``node``'s cells and outputs but for those it
    changes: nbconvert deep-copies the notebook before it changes anything itself."""
    node_class: Any = nbformat.NotebookNode
    safe = node_class(node)
    safe.metadata = node_class({k: v for k, v in node.metadata.items() if k != "widgets"})
    cells = []
    for cell in node.cells:
        if "outputs" in cell:
            kept, changed = [], False
            for output in cell.outputs:
                data = output.get("data")
                hidden = [m for m in data if m in _UNSAFE_MIME or m.startswith(_DATA_ONLY)] \
                    if data else []
                if hidden:
                    changed = True
                    shown = {m: v for m, v in data.items() if m not in hidden}
                    if not shown:
                        continue  # nothing left to show
                    output = node_class({**output, "data": node_class(shown)})
                kept.append(output)
            if changed:
                cell = node_class({**cell, "outputs": kept})
        cells.append(cell)
    safe.cells = cells
    return safe
