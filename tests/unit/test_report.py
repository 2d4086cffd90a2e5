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
