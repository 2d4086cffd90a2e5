"""Outputs without end: bounded memory, truncated with a note, the run still recorded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import write_notebook

pytestmark = pytest.mark.slow


def _run(project_dir: Path, notebook: str) -> tuple[int, dict[str, object], int]:
    """Run a notebook in a child process; its exit code, record and peak RSS (KiB)."""
    code = ("import resource, subprocess, sys\n"
            f"p = subprocess.run([sys.executable, '-m', 'nbprod', 'run', {notebook!r}, "
            "'--json'], capture_output=True, text=True)\n"
            "sys.stdout.write(p.stdout)\n"
            "sys.stderr.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
            "sys.exit(p.returncode)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=project_dir, capture_output=True,
                          text=True, timeout=900, check=False)
    return proc.returncode, json.loads(proc.stdout), int(proc.stderr.strip().splitlines()[-1])


def _stored_notebook(record: dict[str, object]) -> dict[str, object]:
    path = next(a["path"] for a in record["artifacts"]  # type: ignore[attr-defined]
                if a["name"] == "notebook.ipynb")
    return json.loads(Path(path).read_text())  # type: ignore[no-any-return]


@pytest.mark.case("10^6 output lines")
def test_a_million_output_lines(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    write_notebook(project_dir / "chatty.ipynb", None,
                   "for i in range(10**6):\n    print('line', i)", "print('after')")
    code, record, peak = _run(project_dir, "chatty.ipynb")
    seen(f"{record['state']}, note: truncated, runner peak RSS {peak // 1024} MiB")
    assert code == 0 and record["state"] == "succeeded"
    assert "output truncated after 10 MiB per cell: cell 0" in str(record["note"])
    cells = _stored_notebook(record)["cells"]
    first = "".join("".join(o.get("text", "")) for o in cells[0]["outputs"])  # type: ignore[index]
    assert "line 0\n" in first and "line 999999" not in first
    assert "[nbprod: this cell's output was truncated here" in first
    assert "".join(cells[1]["outputs"][0]["text"]) == "after\n"  # type: ignore[index]
    assert peak < 1024 * 1024  # under 1 GiB for the runner (a child process tree's peak)


@pytest.mark.case("a 500 MB output")
def test_a_500_mb_output(project_dir: Path, seen) -> None:  # type: ignore[no-untyped-def]
    write_notebook(project_dir / "huge.ipynb", None,
                   "import sys\nchunk = 'x' * 2**20\nfor _ in range(500):\n"
                   "    sys.stdout.write(chunk)\n    sys.stdout.flush()")
    code, record, peak = _run(project_dir, "huge.ipynb")
    size = Path(next(a["path"] for a in record["artifacts"]  # type: ignore[attr-defined]
                     if a["name"] == "notebook.ipynb")).stat().st_size
    seen(f"{record['state']}, stored notebook {size // 2**20} MiB, peak RSS {peak // 1024} MiB")
    assert code == 0 and record["state"] == "succeeded"
    assert size < 12 * 2**20
    assert peak < 2 * 1024 * 1024  # the runner never held the 500 MB
