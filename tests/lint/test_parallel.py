"""A cold lint shares its notebooks between processes (lint/parallel.py): the findings are the
same, in the same order, on one core or several, and a child that dies costs only time."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import nbformat
import pytest

from nbprod.lint.catalog import RuleSet
from nbprod.lint.config import LintConfig
from nbprod.lint.engine import discover, lint_files
from nbprod.lint.model import LintContext
from nbprod.lint.parallel import split_map

DATA = Path(__file__).parents[1] / "data" / "lint"


def _folder(root: Path) -> list[Path]:
    """Every lint fixture three times over (broken, v4.4, ruff findings, clean), and a
    notebook in nbformat 3, which only the upgrading reader accepts."""
    for copy in range(3):
        for notebook in sorted(DATA.rglob("*.ipynb")):
            target = root / f"c{copy}" / notebook.relative_to(DATA)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(notebook, target)
    old = nbformat.v3.new_notebook(worksheets=[nbformat.v3.new_worksheet(cells=[
        nbformat.v3.new_code_cell(input="import os\nprint(undefined_name)")])])
    (root / "v3.ipynb").write_text(nbformat.v3.writes_json(old))
    return discover([root], LintConfig())


@pytest.mark.parametrize("workers", [2, 3])
def test_findings_do_not_depend_on_the_number_of_processes(tmp_path: Path,
                                                           workers: int) -> None:
    files = _folder(tmp_path)
    assert len(files) > 3 * 16
    rules = RuleSet.from_entry_points()
    context = LintContext(installed_kernels=frozenset({"python3"}))

    one = lint_files(files, root=tmp_path, config=LintConfig(), rules=rules, context=context,
                     workers=1)
    many = lint_files(files, root=tmp_path, config=LintConfig(), rules=rules, context=context,
                      workers=workers)

    assert many == one
    codes = {f.code for f in one.findings}
    assert {"NBP001", "F821"} <= codes
    # ruff reads nbformat 4 only: the upgraded v3 notebook gets its E999, as before
    assert any(f.path == "v3.ipynb" and f.code == "E999" for f in one.findings)


def _dies_in_a_child(share: Sequence[int], parent: int = os.getpid()) -> list[int]:
    if os.getpid() != parent:
        os._exit(3)
    return [n * n for n in share]


def test_a_child_that_dies_has_its_share_done_here() -> None:
    started: list[bool] = []

    squares = split_map(list(range(100)), _dies_in_a_child, then=lambda: started.append(True),
                        workers=2)

    assert squares == [n * n for n in range(100)]
    assert started == [True]


def _fails_here(share: Sequence[int], parent: int = os.getpid()) -> list[int]:
    if os.getpid() == parent:
        raise RuntimeError("this share failed")
    return [n for n in share for _ in range(2000)]  # more than a pipe holds


def test_a_failing_share_here_leaves_no_child_behind() -> None:
    """The error reaches the caller and every child is stopped and reaped: in a long-lived
    process (the Jupyter server lints) a child would otherwise block writing to its pipe."""
    before = _children()

    with pytest.raises(RuntimeError, match="this share failed"):
        split_map(list(range(300)), _fails_here, workers=3)

    assert _children() == before


def _children() -> set[int]:
    """This process's children, as /proc lists them (zombies included)."""
    own = str(os.getpid())
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == own:
            found.add(int(entry.name))
    return found


def test_discover_finds_what_os_walk_would_each_once(tmp_path: Path) -> None:
    """Notebooks sorted per folder, then each subfolder's; hidden and excluded folders and
    linked folders are not walked; a link to a notebook is its target, listed once."""
    for name in ("b.ipynb", "a.ipynb", "sub/c.ipynb", "sub/deeper/d.ipynb", ".hidden/e.ipynb",
                 "skipped/f.ipynb", "other/g.ipynb", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    (tmp_path / "linked").symlink_to(tmp_path / "other", target_is_directory=True)
    (tmp_path / "sub" / "z.ipynb").symlink_to(tmp_path / "a.ipynb")
    found = discover([tmp_path, tmp_path / "b.ipynb"], LintConfig(exclude=("skipped",)))
    root = tmp_path.resolve()
    assert found == [root / "a.ipynb", root / "b.ipynb", root / "other" / "g.ipynb",
                     root / "sub" / "c.ipynb", root / "sub" / "deeper" / "d.ipynb"]
