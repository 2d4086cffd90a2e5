"""lint/schema.py gives nbformat's answer (valid or not) on notebooks broken in many ways."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nbprod.lint.schema import schema_error, validator

DATA = Path(__file__).parents[1] / "data" / "lint"
Mutation = Callable[[dict[str, Any]], None]


def _cells(nb: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [c for c in nb["cells"] if c["cell_type"] == kind] or nb["cells"][:1]


MUTATIONS: dict[str, Mutation] = {
    "as is": lambda nb: None,
    "code cell without outputs": lambda nb: _cells(nb, "code")[0].pop("outputs", None),
    "execution_count a string": lambda nb: _cells(nb, "code")[0].update(execution_count="x"),
    "unknown cell field": lambda nb: nb["cells"][-1].update(colour="red"),
    "outputs a dict": lambda nb: _cells(nb, "code")[0].update(outputs={}),
    "metadata a list": lambda nb: nb["cells"][0].update(metadata=[]),
    "unknown top-level field": lambda nb: nb.update(extra=1),
    "bad cell id": lambda nb: nb["cells"][0].update(id="not ok!"),
    "no cell id": lambda nb: nb["cells"][0].pop("id", None),
    "markdown with outputs": lambda nb: _cells(nb, "markdown")[0].update(outputs=[]),
    "raw source a number": lambda nb: nb["cells"][0].update(source=3),
    "stream output without name": lambda nb: _cells(nb, "code")[0].update(
        outputs=[{"output_type": "stream", "text": "x"}]),
    "unknown output type": lambda nb: _cells(nb, "code")[0].update(
        outputs=[{"output_type": "weird"}]),
    "source a list of lines": lambda nb: nb["cells"][0].update(source=["a\n", "b"]),
    "source a list holding a number": lambda nb: nb["cells"][0].update(source=["a\n", 3]),
    "stream text a dict": lambda nb: _cells(nb, "code")[0].update(
        outputs=[{"output_type": "stream", "name": "stdout", "text": {"a": "b"}}]),
    "output not an object": lambda nb: _cells(nb, "code")[0].update(outputs=[3]),
    "output without output_type": lambda nb: _cells(nb, "code")[0].update(
        outputs=[{"name": "stdout", "text": "x"}]),
    "display_data without data": lambda nb: _cells(nb, "code")[0].update(
        outputs=[{"output_type": "display_data", "metadata": {}}]),
    "execute_result with a stream's fields": lambda nb: _cells(nb, "code")[0].update(
        outputs=[{"output_type": "execute_result", "name": "stdout", "text": "x"}]),
    "error traceback a string": lambda nb: _cells(nb, "code")[0].update(outputs=[
        {"output_type": "error", "ename": "E", "evalue": "v", "traceback": "t"}]),
    "valid outputs of every type": lambda nb: _cells(nb, "code")[0].update(outputs=[
        {"output_type": "stream", "name": "stdout", "text": ["a\n", "b"]},
        {"output_type": "execute_result", "execution_count": 1, "metadata": {},
         "data": {"text/plain": "1"}},
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": "AAAA"}},
        {"output_type": "error", "ename": "E", "evalue": "v", "traceback": ["t"]}]),
    "minor 4 keeps ids": lambda nb: nb.update(nbformat_minor=4),
    "kernelspec without name": lambda nb: nb["metadata"].update(kernelspec={"x": 1}),
    # metadata fields the schema constrains, ids, execution counts, attachments
    "tags": lambda nb: nb["cells"][0].update(metadata={"tags": ["a", "b c"], "other": 1}),
    "tag with a comma": lambda nb: nb["cells"][0].update(metadata={"tags": ["a,b"]}),
    "tag repeated": lambda nb: nb["cells"][0].update(metadata={"tags": ["a", "a"]}),
    "tag empty": lambda nb: nb["cells"][0].update(metadata={"tags": [""]}),
    "tag a number": lambda nb: nb["cells"][0].update(metadata={"tags": [1]}),
    "tags a string": lambda nb: nb["cells"][0].update(metadata={"tags": "a"}),
    "tag with a newline": lambda nb: nb["cells"][0].update(metadata={"tags": ["a\nb"]}),
    "collapsed a string": lambda nb: _cells(nb, "code")[0].update(
        metadata={"collapsed": "yes"}),
    "scrolled auto": lambda nb: _cells(nb, "code")[0].update(metadata={"scrolled": "auto"}),
    "name empty": lambda nb: nb["cells"][0].update(metadata={"name": ""}),
    "jupyter a list": lambda nb: _cells(nb, "markdown")[0].update(metadata={"jupyter": []}),
    "execution a number": lambda nb: _cells(nb, "code")[0].update(
        metadata={"execution": {"iopub.status.busy": 3}}),
    "execution_count negative": lambda nb: _cells(nb, "code")[0].update(execution_count=-1),
    "execution_count true": lambda nb: _cells(nb, "code")[0].update(execution_count=True),
    "execution_count 2.0": lambda nb: _cells(nb, "code")[0].update(execution_count=2.0),
    "output execution_count 2.0": lambda nb: _cells(nb, "code")[0].update(outputs=[
        {"output_type": "execute_result", "execution_count": 2.0, "metadata": {},
         "data": {"text/plain": "1"}}]),
    "execution_count big": lambda nb: _cells(nb, "code")[0].update(execution_count=10**30),
    "id of 64 characters": lambda nb: nb["cells"][0].update(id="a" * 64),
    "id of 65 characters": lambda nb: nb["cells"][0].update(id="a" * 65),
    "id empty": lambda nb: nb["cells"][0].update(id=""),
    "id ending in a newline": lambda nb: nb["cells"][0].update(id="abc\n"),
    "id a number": lambda nb: nb["cells"][0].update(id=7),
    "markdown attachments": lambda nb: _cells(nb, "markdown")[0].update(
        attachments={"a.png": {"image/png": "AAAA"}}),
    "markdown attachments broken": lambda nb: _cells(nb, "markdown")[0].update(
        attachments={"a.png": 3}),
    "source a dict": lambda nb: _cells(nb, "markdown")[0].update(source={"a": 1}),
    "cell_type raw with plain fields": lambda nb: nb["cells"][0].update(cell_type="raw"),
}


def _notebooks() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(DATA.rglob("*.ipynb")):
        try:
            data = json.loads(path.read_text())
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("nbformat") == 4 and data.get("cells"):
            yield path.name, data


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_same_answer_as_nbformat(mutation: str) -> None:
    checked = 0
    for name, original in _notebooks():
        notebook = copy.deepcopy(original)
        MUTATIONS[mutation](notebook)
        try:
            validator(notebook.get("nbformat_minor", 5)).validate(notebook)
            expected = True
        except Exception:
            expected = False
        assert (schema_error(notebook) is None) is expected, (name, mutation)
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("encode", [
    pytest.param(lambda text: text.replace('"metadata": {}', '"metadata": {"score": NaN}', 1)
                 .encode(), id="NaN in metadata"),
    pytest.param(lambda text: b"\xef\xbb\xbf" + text.encode(), id="byte order mark"),
    pytest.param(lambda text: text.replace('"execution_count": null',
                                           '"execution_count": 123456789012345678901234567890',
                                           1).encode(), id="integer past 64 bits"),
])
def test_json_orjson_refuses_is_read_as_nbprod_run_reads_it(
        tmp_path: Path, encode: Callable[[str], bytes]) -> None:
    """The linter reads notebooks with orjson; what it refuses or reads otherwise than the
    standard library gets the answer of nbprod run's reader (here: a notebook, its version)."""
    import nbformat

    from nbprod.lint.catalog import RuleSet
    from nbprod.lint.config import LintConfig
    from nbprod.lint.engine import lint_files
    from nbprod.lint.model import LintContext
    from nbprod.notebook.load import parse_notebook
    from nbprod.notebook.version import notebook_version

    node = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")],
                                    metadata={"kernelspec": {"name": "python3",
                                                           "display_name": "Python 3"}})
    raw = encode(nbformat.writes(node))
    path = tmp_path / "odd.ipynb"
    path.write_bytes(raw)
    report = lint_files([path], root=tmp_path, config=LintConfig(),
                        rules=RuleSet.from_entry_points(),
                        context=LintContext(installed_kernels=frozenset({"python3"})))

    (result,) = report.files
    assert "NBP001" not in {f.code for f in result.findings}, result.findings
    expected = parse_notebook(raw.decode("utf-8-sig"), "odd.ipynb")
    assert result.notebook_version == notebook_version(expected)
