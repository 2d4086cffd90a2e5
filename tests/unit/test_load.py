"""Reading notebook files: validation, upgrades, clear errors, and the notebook version."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from nbprod.errors import EXIT_INVALID_INPUT, NotebookInvalid
from nbprod.notebook import notebook_version, parse_notebook, read_notebook

from .helpers import code, markdown, new_notebook


def _notebook_json(**top: Any) -> dict[str, Any]:
    node = new_notebook(markdown("# title"), code("x: int = 1", "parameters"),
                        code("print(x)"))
    data: dict[str, Any] = json.loads(nbformat.writes(node))
    data.update(top)
    return data


def _write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def test_valid_v45_notebook(write_notebook: Callable[..., Path]) -> None:
    path = write_notebook(markdown("hi"), code("x = 1", "parameters"), code("y = x"),
                          kernel="ir")

    notebook = read_notebook(path)

    assert notebook.path == path
    assert (notebook.node.nbformat, notebook.node.nbformat_minor) == (4, 5)
    assert [c.cell_type for c in notebook.cells] == ["markdown", "code", "code"]
    assert notebook.parameters_cells == [1]
    assert notebook.kernel_name == "ir"
    assert notebook.version == notebook_version(notebook.node)
    assert len(notebook.version) == 64


def test_notebook_without_kernelspec_has_no_kernel_name(
        write_notebook: Callable[..., Path]) -> None:
    assert read_notebook(write_notebook(code("1"), kernel=None)).kernel_name is None


@pytest.mark.parametrize("minor", [0, 1, 2, 3, 4])
def test_older_v4_minor_is_upgraded_in_memory_only(tmp_path: Path, minor: int) -> None:
    data = _notebook_json(nbformat_minor=minor)
    for cell in data["cells"]:
        del cell["id"]  # cell ids only exist from 4.5 on
    path = _write_json(tmp_path / "old.ipynb", data)
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns

    notebook = read_notebook(path)

    assert (notebook.node.nbformat, notebook.node.nbformat_minor) == (4, 5)
    assert all(cell.get("id") for cell in notebook.node.cells)
    nbformat.validate(notebook.node)
    assert notebook.parameters_cells == [1]
    assert notebook.cells[1].source == "x: int = 1"
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime


def test_older_v4_minor_has_a_stable_version(tmp_path: Path) -> None:
    data = _notebook_json(nbformat_minor=2)
    for cell in data["cells"]:
        del cell["id"]
    path = _write_json(tmp_path / "old.ipynb", data)

    # Upgrading invents random cell ids; they must not leak into the version.
    assert read_notebook(path).version == read_notebook(path).version


def test_v3_notebook_is_upgraded_in_memory_only(tmp_path: Path) -> None:
    v3 = nbformat.v3
    node = v3.new_notebook(worksheets=[v3.new_worksheet(cells=[
        v3.new_text_cell("markdown", source="# title"),
        v3.new_code_cell(input="x = 1\ny = 2"),
    ])])
    path = tmp_path / "v3.ipynb"
    path.write_text(v3.writes_json(node), encoding="utf-8")
    before = path.read_bytes()

    notebook = read_notebook(path)

    assert (notebook.node.nbformat, notebook.node.nbformat_minor) == (4, 5)
    assert [c.cell_type for c in notebook.cells] == ["markdown", "code"]
    assert notebook.cells[1].source == "x = 1\ny = 2"
    nbformat.validate(notebook.node)
    assert path.read_bytes() == before


def test_truncated_file_says_not_json_and_truncated(tmp_path: Path) -> None:
    text = nbformat.writes(new_notebook(code("x = 1", "parameters"), code("print(x)")))
    half = text[: len(text) // 2]
    assert not half.rstrip().endswith("}")  # the plain case: cut inside a value
    path = tmp_path / "cut.ipynb"
    path.write_text(half, encoding="utf-8")

    with pytest.raises(NotebookInvalid) as info:
        read_notebook(path)

    line = info.value.one_line()
    assert line.startswith(f"{path}: not valid JSON at line ")
    assert "truncated" in line.removeprefix(str(path))
    assert info.value.exit_code == EXIT_INVALID_INPUT


def test_file_truncated_just_after_a_closing_brace_is_still_called_truncated(
        tmp_path: Path) -> None:
    text = nbformat.writes(new_notebook(code("x = 1", "parameters"), code("print(x)")))
    cut = text[: text.index("}", len(text) // 3) + 1]  # ends with a nested '}'
    path = tmp_path / "cut.ipynb"
    path.write_text(cut, encoding="utf-8")

    with pytest.raises(NotebookInvalid) as info:
        read_notebook(path)

    assert "truncated" in info.value.one_line().removeprefix(str(path))


def test_bad_json_that_is_not_truncated_is_not_called_truncated() -> None:
    text = nbformat.writes(new_notebook(code("x = 1")))
    broken = text.replace('"cells": [', '"cells": [,', 1)

    with pytest.raises(NotebookInvalid) as info:
        parse_notebook(broken, "broken.ipynb")

    assert "not valid JSON at line" in info.value.one_line()
    assert "truncated" not in info.value.one_line()


def _drop_outputs(data: dict[str, Any]) -> None:
    del data["cells"][2]["outputs"]


def _bogus_type(data: dict[str, Any]) -> None:
    data["cells"][1]["cell_type"] = "bogus"


def _bad_source(data: dict[str, Any]) -> None:
    data["cells"][2]["source"] = 5


@pytest.mark.parametrize(("damage", "expected"), [
    (_drop_outputs, "cell 2 is not a valid code cell"),
    (_bogus_type, "cell 1 has unknown cell_type 'bogus'"),
    (_bad_source, "cell 2 field source"),
])
def test_schema_invalid_notebook_names_the_schema_and_the_cell(
        tmp_path: Path, damage: Callable[[dict[str, Any]], None], expected: str) -> None:
    data = _notebook_json()
    damage(data)
    path = _write_json(tmp_path / "bad.ipynb", data)

    with pytest.raises(NotebookInvalid) as info:
        read_notebook(path)

    line = info.value.one_line()
    assert line.startswith(f"{path}: ")
    assert "does not match the nbformat schema" in line
    assert expected in line


@pytest.mark.parametrize("content", [
    [],
    [{"nbformat": 4}],
    {"cells": []},
    {"name": "not a notebook"},
    "a string",
    42,
])
def test_json_that_is_not_a_notebook(tmp_path: Path, content: Any) -> None:
    path = _write_json(tmp_path / "x.ipynb", content)

    with pytest.raises(NotebookInvalid) as info:
        read_notebook(path)

    assert info.value.one_line() == f"{path}: not a Jupyter notebook (no 'nbformat' field)"


@pytest.mark.parametrize("major", [5, 2, 1, "4", None, True])
def test_unsupported_nbformat_version(tmp_path: Path, major: Any) -> None:
    path = _write_json(tmp_path / "x.ipynb", _notebook_json(nbformat=major))

    with pytest.raises(NotebookInvalid) as info:
        read_notebook(path)

    assert f"nbformat version {major!r} is not supported" in info.value.one_line()


def _cells_not_a_list(data: dict[str, Any]) -> None:
    data["cells"] = 5


def _metadata_a_list(data: dict[str, Any]) -> None:
    data["metadata"] = []


def _cell_metadata_null(data: dict[str, Any]) -> None:
    data["cells"][1]["metadata"] = None


def _minor_a_string(data: dict[str, Any]) -> None:
    data["nbformat_minor"] = "5"


def _v3_without_worksheets(data: dict[str, Any]) -> None:
    data["nbformat"] = 3


@pytest.mark.parametrize("damage", [_cells_not_a_list, _metadata_a_list, _cell_metadata_null,
                                    _minor_a_string, _v3_without_worksheets])
def test_structurally_wrong_notebook_is_notebook_invalid(
        tmp_path: Path, damage: Callable[[dict[str, Any]], None]) -> None:
    data = _notebook_json()
    damage(data)
    path = _write_json(tmp_path / "x.ipynb", data)

    with pytest.raises(NotebookInvalid) as info:
        read_notebook(path)

    assert str(path) in info.value.one_line()


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.ipynb"

    with pytest.raises(NotebookInvalid) as info:
        read_notebook(path)

    assert info.value.one_line() == f"{path}: no such file"
    assert info.value.exit_code == EXIT_INVALID_INPUT


def test_a_folder_is_not_a_notebook(tmp_path: Path) -> None:
    folder = tmp_path / "nb.ipynb"
    folder.mkdir()

    with pytest.raises(NotebookInvalid) as info:
        read_notebook(folder)

    assert info.value.one_line() == f"{folder}: is a folder, not a notebook file"


def test_binary_file_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_bytes(b'{"cells": "\xff\xfe"}')

    with pytest.raises(NotebookInvalid) as info:
        read_notebook(path)

    assert "not UTF-8 text" in info.value.one_line()


# -- notebook_version -------------------------------------------------------------------


def _base() -> Any:
    return new_notebook(markdown("# A"), code("alpha: float = 0.5", "parameters"),
                        code("print(alpha)"))


def _with_outputs(node: Any) -> None:
    node.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="0.5\n")]
    node.cells[2].execution_count = 7
    node.cells[1].execution_count = 6


def _with_metadata(node: Any) -> None:
    node.metadata["language_info"] = {"name": "python", "version": "3.11.9"}
    node.metadata["papermill"] = {"parameters": {"alpha": 1}}
    node.cells[2].metadata["collapsed"] = True
    node.cells[2].metadata["execution"] = {"iopub.status.busy": "2024-01-01T00:00:00Z"}


def _with_new_ids(node: Any) -> None:
    for i, cell in enumerate(node.cells):
        cell.id = f"cell-{i}"


def _with_trailing_whitespace(node: Any) -> None:
    node.cells[2].source = "print(alpha)   \n\n"


def _as_line_list(node: Any) -> None:
    node.cells[1].source = ["alpha: float = 0.5"]


@pytest.mark.parametrize("change", [_with_outputs, _with_metadata, _with_new_ids,
                                    _with_trailing_whitespace, _as_line_list])
def test_version_ignores_execution_and_volatile_metadata(change: Callable[[Any], None]) -> None:
    node = _base()
    changed = copy.deepcopy(node)
    change(changed)

    assert notebook_version(changed) == notebook_version(node)


def _edit_source(node: Any) -> None:
    node.cells[2].source = "print(alpha * 2)"


def _edit_markdown(node: Any) -> None:
    node.cells[0].source = "# B"


def _add_tag(node: Any) -> None:
    node.cells[2].metadata["tags"] = ["slow"]


def _move_parameters_tag(node: Any) -> None:
    del node.cells[1].metadata["tags"]
    node.cells[2].metadata["tags"] = ["parameters"]


def _other_kernel(node: Any) -> None:
    node.metadata["kernelspec"]["name"] = "python3-gpu"


def _swap_cells(node: Any) -> None:
    node.cells[1], node.cells[2] = node.cells[2], node.cells[1]


def _add_cell(node: Any) -> None:
    node.cells.append(code(""))


def _move_line_between_cells(node: Any) -> None:
    node.cells[1].source = "alpha: float = 0.5\nprint(alpha)"
    node.cells[2].source = ""


@pytest.mark.parametrize("change", [_edit_source, _edit_markdown, _add_tag,
                                    _move_parameters_tag, _other_kernel, _swap_cells, _add_cell,
                                    _move_line_between_cells])
def test_version_changes_when_behaviour_can_change(change: Callable[[Any], None]) -> None:
    node = _base()
    changed = copy.deepcopy(node)
    change(changed)

    assert notebook_version(changed) != notebook_version(node)


def test_version_survives_a_save_and_reload(write_notebook: Callable[..., Path]) -> None:
    node = _base()
    path = write_notebook(*node.cells)

    assert read_notebook(path).version == notebook_version(node)


def test_normalized_source_is_the_line_by_line_strip_for_any_text() -> None:
    """The fast path gives what rstrip of each line (as splitlines splits) gives: versions
    recorded before it stay the same."""
    import random

    from nbprod.notebook.version import normalized_source

    def reference(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")

    alphabet = ["a", "x = 1", " ", "  ", "\t", "\n", "\n\n", "\r", "\x0b", "\x0c", "\x1c",
                "\x1d", "\x1e", "\x1f", "\x85", "\xa0", "\u2028", "\u3000", "é", "#"]
    rng = random.Random(13)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert normalized_source(text) == reference(text), repr(text)


def test_a_notebook_read_while_jupyter_saves_it_is_the_saved_one(tmp_path: Path) -> None:
    """jupyter_server saves in place (the old file copied to ``.~NAME`` meanwhile): a read
    in the middle of the save waits for it instead of reporting a truncated notebook."""
    import threading
    import time

    from jupyter_server.services.contents.fileio import atomic_writing

    path = tmp_path / "saved.ipynb"
    nbformat.write(new_notebook(code("x = 1")), path)
    text = nbformat.writes(new_notebook(code("x = 2")))
    halfway = threading.Event()

    def save() -> None:
        with atomic_writing(str(path)) as handle:
            handle.write(text[: len(text) // 2])
            handle.flush()
            halfway.set()
            time.sleep(0.3)
            handle.write(text[len(text) // 2:])

    saver = threading.Thread(target=save)
    saver.start()
    assert halfway.wait(10)
    try:
        read = read_notebook(path)
    finally:
        saver.join()
    assert read.cells[0].source == "x = 2"


def test_a_copy_left_by_a_crashed_save_is_not_waited_for_long(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbprod.notebook.load as load

    monkeypatch.setattr(load, "SAVE_WAIT", 0.1)
    path = tmp_path / "crashed.ipynb"
    path.write_text('{"cells": [')
    (tmp_path / ".~crashed.ipynb").write_text(nbformat.writes(new_notebook(code("x = 1"))))
    with pytest.raises(NotebookInvalid, match="not valid JSON"):
        read_notebook(path)
