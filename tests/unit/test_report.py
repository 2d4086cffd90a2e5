"""The HTML report: sanitized, and highlighting remembered without changing the page."""

from __future__ import annotations

from typing import Any

from nbconvert.filters.highlight import Highlight2HTML

from nbprod.execute.report import ReportRenderer, warm_exporter
from nbprod.notebook._nbformat import nbformat


def _notebook() -> Any:
    v4 = nbformat.v4
    code = v4.new_code_cell("import math\nprint(math.pi)  # a comment")
    code.outputs = [
        v4.new_output("stream", name="stdout", text="3.14159\n"),
        v4.new_output("display_data", data={
            "text/html": "<b>bold</b><script>alert('x')</script>",
            "application/javascript": "alert('js')"}),
    ]
    magic = v4.new_code_cell("%%bash\necho hi")
    magic.metadata["magics_language"] = "bash"
    return v4.new_notebook(cells=[v4.new_markdown_cell("# Title"), code, magic])


def test_report_is_sanitized_and_stable_across_renders() -> None:
    node = _notebook()
    first = ReportRenderer().render(node).decode()
    second = ReportRenderer().render(node).decode()
    assert first == second  # the second render highlights from the cache
    assert "<b>bold</b>" in first
    assert "alert('x')" not in first and "alert('js')" not in first
    assert "math" in first and "Title" in first


def test_cached_highlight_matches_nbconvert_and_tells_magics_apart() -> None:
    exporter = warm_exporter()
    exporter.from_notebook_node(_notebook())  # registers the cached filter
    cached = exporter.environment.filters["highlight_code"]
    plain = Highlight2HTML(pygments_lexer="ipython3")
    source = "%%bash\necho hi"
    for metadata in (None, {"magics_language": "bash"}):
        assert cached(source, metadata=metadata) == plain(source, metadata=metadata)
        assert cached(source, metadata=metadata) == plain(source, metadata=metadata)
    assert cached(source) != cached(source, metadata={"magics_language": "bash"})


def _clear_remembered() -> None:
    from nbprod.execute import report

    exporter = warm_exporter()
    for memo in (report._CLEANED, type(exporter)._markdown):
        memo._kept.clear()
    type(exporter)._css.clear()


def test_a_page_rendered_from_remembered_parts_is_the_page_rendered_afresh() -> None:
    v4 = nbformat.v4
    table = "<table><tr><th>a</th></tr><tr><td onclick='x()'>1</td></tr></table>"
    node = v4.new_notebook(cells=[
        v4.new_markdown_cell("# Results\n\nSome *text* and $x^2$."),
        v4.new_code_cell("df", outputs=[v4.new_output(
            "execute_result", execution_count=1, data={"text/html": table, "text/plain": "df"})]),
        v4.new_markdown_cell("## Next\n\n| a | b |\n|---|---|\n| 1 | 2 |"),
    ])
    _clear_remembered()
    fresh = ReportRenderer().render(node)
    again = ReportRenderer().render(node)  # markdown, sanitized HTML and CSS remembered
    assert again == fresh
    assert b"onclick" not in again and b"<td>1</td>" in again
    _clear_remembered()
    assert ReportRenderer().render(node) == fresh


def test_markdown_with_attachments_is_rendered_for_each_cell() -> None:
    # (the page's sanitizer then drops images, as nbconvert's does; the filter must not
    # hand one cell's attachment to another)
    markdown = warm_exporter().markdown2html
    source = "![plot](attachment:plot.png)"
    htmls = [markdown({"cell": {"attachments": {"plot.png": {"image/png": pixel}}}}, source)
             for pixel in ("iVBORw0KGgoAAAA=", "R0lGODlhAQABAAA=")]
    assert "iVBORw0KGgoAAAA=" in htmls[0] and "R0lGODlhAQABAAA=" in htmls[1]
    assert markdown({}, "*a*") == markdown({}, "*a*") == "<p><em>a</em></p>\n"


def test_rendering_leaves_the_executed_notebook_alone() -> None:
    node = _notebook()
    before = nbformat.writes(node)
    page = ReportRenderer().render(node).decode()
    assert "alert('js')" not in page
    assert nbformat.writes(node) == before  # the stored notebook keeps its JavaScript output
    assert "application/javascript" in node.cells[1].outputs[1].data


def test_a_primed_report_highlights_nothing_anew_and_is_the_same_page(
        monkeypatch: Any) -> None:
    from nbconvert.filters import highlight

    v4 = nbformat.v4
    cells = [v4.new_code_cell(f"value_{i} = {i} * 2  # cell {i}") for i in range(4)]
    before = v4.new_notebook(cells=cells, metadata={
        "language_info": {"name": "python", "pygments_lexer": "ipython3"}})
    after = v4.new_notebook(cells=[v4.new_code_cell(c.source, outputs=[v4.new_output(
        "stream", name="stdout", text=f"out {i}\n")]) for i, c in enumerate(cells)],
        metadata=before.metadata)
    fresh = ReportRenderer().render(after)  # (highlighting now remembered: cleared below)
    type(warm_exporter().environment.filters["highlight_code"])._cache._kept.clear()
    _clear_remembered()
    import sys

    interval = sys.getswitchinterval()
    calls: list[str] = []
    real = highlight._pygments_highlight
    monkeypatch.setattr(highlight, "_pygments_highlight",
                        lambda source, *a, **k: calls.append(source) or real(source, *a, **k))
    renderer = ReportRenderer()
    renderer.prime(before)
    renderer.close()  # (no cell will finish here)
    renderer._thread.join()
    assert sorted(calls) == sorted(c.source for c in cells)  # the primer highlighted each
    calls.clear()
    assert renderer.render(after) == fresh
    assert calls == []  # rendering found every cell highlighted
    assert sys.getswitchinterval() == interval  # given back once the primer ended


def test_markdown_and_finished_cells_outputs_are_primed_and_the_page_is_the_same(
        monkeypatch: Any) -> None:
    """Markdown cells are converted with the code cells; each finished cell's HTML outputs
    are sanitized while the next runs (cell_done): the render converts and sanitizes
    nothing anew, and the page is the one rendered afresh."""
    from nbconvert import HTMLExporter

    from nbprod.execute import report

    v4 = nbformat.v4
    meta = {"language_info": {"name": "python", "pygments_lexer": "ipython3"}}
    sources = ["# Data\nSee *the table*.", "frame", "## Fit", "model"]
    htmls = ["<table><tr><td onclick='x()'>1</td></tr></table>",
             "<div class='sk'><script>y()</script><b>RF</b></div>"]
    before = v4.new_notebook(metadata=meta, cells=[
        v4.new_markdown_cell(s) if s[0] == "#" else v4.new_code_cell(s) for s in sources])
    after = v4.new_notebook(metadata=meta, cells=[
        v4.new_markdown_cell(s) if s[0] == "#" else v4.new_code_cell(s) for s in sources])
    for cell, html in zip([c for c in after.cells if c.cell_type == "code"], htmls,
                          strict=True):
        cell.outputs = [v4.new_output("execute_result", data={
            "text/html": html, "text/plain": "x"}, execution_count=1)]
    fresh = ReportRenderer().render(after)
    _clear_remembered()
    cleaned: list[str] = []
    converted: list[str] = []
    real_clean, real_markdown = report._clean, HTMLExporter.markdown2html
    monkeypatch.setattr(report, "_clean", lambda text: cleaned.append(text) or real_clean(text))
    monkeypatch.setattr(HTMLExporter, "markdown2html", lambda self, context, source: (
        converted.append(source), real_markdown(self, context, source))[1])
    renderer = ReportRenderer()
    renderer.prime(before)  # the cells as they start: no output yet
    for index, cell in enumerate(before.cells):  # each cell as it finishes
        if cell.cell_type == "code":
            cell.outputs = after.cells[index].outputs
            renderer.cell_done(index)
    renderer.close()
    renderer._thread.join()
    assert sorted(converted) == sorted(s for s in sources if s[0] == "#")
    assert set(htmls) <= set(cleaned)
    cleaned.clear()
    converted.clear()
    assert renderer.render(after) == fresh
    assert cleaned == [] and converted == []  # everything found remembered
