"""kernels/child._files_open_for_writing: the exit-time scan for unflushed file objects runs
only when a file other than the kernel's own output is open for writing.

ipykernel points fds 1 and 2 at a pipe it reads and keeps copies of the original stdout and
stderr (the kernel's log), which it writes with os.write; those are not a reason to walk
every object at exit (20 ms after a notebook with pandas and scikit-learn). Checked in a
fresh interpreter, whose descriptors are only what the script opens.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import os, sys
from nbprod.kernels.child import _files_open_for_writing

log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
os.dup2(log, 1)
os.dup2(log, 2)
copy_out, copy_err = os.dup(1), os.dup(2)  # what ipykernel keeps of the original streams
read_end, write_end = os.pipe()
os.dup2(write_end, 1)  # and where it sends fds 1 and 2
os.dup2(write_end, 2)
os.close(write_end)
os.close(log)


class Stream:
    def __init__(self, copy):
        self._original_stdstream_copy = copy

    def write(self, text):
        return len(text)

    def flush(self):
        pass


real = sys.stdout, sys.stderr
sys.stdout, sys.stderr = Stream(copy_out), Stream(copy_err)
answers = [_files_open_for_writing()]
kept = open(sys.argv[2], "w")  # a notebook's file left open
answers.append(_files_open_for_writing())
kept.close()
os.write(copy_out, ("ANSWERS " + " ".join(map(str, answers)) + "\n").encode())
"""


def test_only_the_kernels_own_output_open_skips_the_scan(tmp_path: Path) -> None:
    log = tmp_path / "kernel.log"
    subprocess.run([sys.executable, "-c", SCRIPT, str(log), str(tmp_path / "data.csv")],
                   check=True, timeout=60, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert "ANSWERS False True" in log.read_text()
