"""nbprod's notebook writer gives nbformat.v4.writes's text, byte for byte."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest

from nbprod.notebook.write import notebook_json

DATA = Path(__file__).parent.parent / "data" / "notebooks"


def executed() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata.update(orig_nbformat=3, orig_nbformat_minor=1, signature="sha256:x",
                       kernelspec={"name": "python3", "display_name": "Python 3"})
    code = nbformat.v4.new_code_cell("print('a')\nprint('b')", execution_count=1)
    code.metadata.update(trusted=True, tags=["x"])
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="a\nb\n"),
        nbformat.v4.new_output("stream", name="stderr", text=["already\n", "split"]),
        nbformat.v4.new_output("display_data", data={
            "text/html": "<b>x</b>\n<i>y</i>", "image/png": "iVBOR\nw0KGgo=",
            "image/svg+xml": "<svg>\n</svg>", "application/json": {"k": ["é", 1.5]},
            "application/javascript": "alert(1)\nalert(2)"}, metadata={"isolated": True}),
        nbformat.v4.new_output("execute_result", data={"text/plain": "42"},
                               execution_count=1),
        nbformat.v4.new_output("error", ename="E", evalue="v", traceback=["t1", "t2"]),
    ]
    markdown = nbformat.v4.new_markdown_cell("# Title\n![x](attachment:x.png) ✓")
    markdown.attachments = {"x.png": {"image/png": "iVBOR\nw0KGgo=", "text/plain": "a\nb"}}
    raw = nbformat.v4.new_raw_cell("raw\ntext")
    nb.cells = [markdown, code, raw, nbformat.v4.new_code_cell("")]
    return nb


def readable(path: Path) -> nbformat.NotebookNode | None:
    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # the malformed notebooks the error tests use
        return None


CASES = [pytest.param(executed(), id="executed")] + [
    pytest.param(nb, id=path.name) for path in sorted(DATA.glob("*.ipynb"))
    if (nb := readable(path)) is not None]


@pytest.mark.parametrize("nb", CASES)
def test_the_text_is_nbformats(nb: nbformat.NotebookNode) -> None:
    before = copy.deepcopy(nb)
    assert notebook_json(nb) == nbformat.v4.writes(nb)
    assert nb == before  # the notebook given is left as it was
