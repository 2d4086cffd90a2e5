"""Where a run comes from: git state, the Python environment, input data, the runner process.

Each function takes what it inspects as an argument (a folder, a list of files, a cache
path) so the caller decides; nothing here reads settings or the process environment.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import platform
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import NotFound
from .records import RunnerIdentity

_CHUNK = 1 << 20


@dataclass(frozen=True)
class GitState:
    commit: str | None
    dirty: bool | None


def git_state(folder: Path) -> GitState:
    """HEAD's commit and whether the work tree has changes; ``None`` outside a repository."""
    if not _in_repository(folder):
        return GitState(None, None)  # no git process to start (5-10 ms)
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True,
                                text=True, timeout=10, check=False)
        if commit.returncode != 0:
            return GitState(None, None)
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=folder, capture_output=True, text=True, timeout=10,
                                check=False)
    except (OSError, subprocess.TimeoutExpired):
        return GitState(None, None)
    dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
    return GitState(commit.stdout.strip(), dirty)


def _in_repository(folder: Path) -> bool:
    """Whether ``folder`` is in a work tree: a ``.git`` (a folder, or the file of a linked
    work tree or submodule) in it or above it."""
    current = folder.resolve()
    return any((candidate / ".git").exists() for candidate in (current, *current.parents))


@dataclass(frozen=True)
class Environment:
    """The interpreter and the exact installed distributions, and their digest."""

    digest: str
    python: str
    packages: tuple[str, ...]


def python_environment(cache_dir: Path | None = None) -> Environment:
    """Digest of the interpreter and installed distributions (``name==version``, sorted).

    Listing distributions costs ~0.1 s, so the result is cached in ``cache_dir`` keyed by the
    interpreter and the modification times of the folders on ``sys.path`` (installing or
    removing a distribution changes its folder).
    """
    python = platform.python_version()
    key = environment_key()
    cache = cache_dir / f"environment-{key}.json" if cache_dir else None
    if cache is not None:
        try:
            data = json.loads(cache.read_text())
            return Environment(data["digest"], data["python"], tuple(data["packages"]))
        except (OSError, ValueError, KeyError):
            pass
    from importlib import metadata

    packages = sorted({f"{(d.metadata['Name'] or '?').lower()}=={d.version}"
                       for d in metadata.distributions()})
    digest = hashlib.sha256(
        json.dumps({"python": sys.version, "implementation": sys.implementation.name,
                    "packages": packages}).encode()).hexdigest()
    environment = Environment(digest, python, tuple(packages))
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"digest": digest, "python": python,
                                       "packages": packages}))
            os.replace(tmp, cache)
        except OSError:
            pass
    return environment


def environment_key() -> str:
    """A cheap key that changes when the interpreter or installed distributions change.

    Installing or removing a distribution changes its ``site-packages`` folder's modification
    time; other ``sys.path`` entries (the working directory, a project's ``src``) do not hold
    distributions and are left out, so the key does not change with the project's files.
    """
    parts = [sys.executable, sys.version]
    for entry in sys.path:
        if "site-packages" not in entry and "dist-packages" not in entry:
            continue
        try:
            parts.append(f"{entry}:{os.stat(entry).st_mtime_ns}")
        except OSError:
            parts.append(f"{entry}:-")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def input_digests(root: Path, patterns: list[str] | tuple[str, ...],
                  declared_in: str) -> dict[str, str]:
    """SHA-256 of each declared input file (globs and folders expand to their files).

    Raises NotFound naming the pattern and where it was declared when nothing matches.
    """
    digests: dict[str, str] = {}
    for pattern in patterns:
        base = pattern if Path(pattern).is_absolute() else \
            f"{glob.escape(str(root))}/{pattern}"
        matches = sorted(glob.glob(base, recursive=True))
        files: list[Path] = []
        for match in map(Path, matches):
            if match.is_dir():
                files.extend(p for p in sorted(match.rglob("*")) if p.is_file())
            elif match.is_file():
                files.append(match)
        if not files:
            raise NotFound(f"declared input {pattern} ({declared_in}) does not exist",
                           hint="create it (run the notebook that produces it) or fix the path")
        for path in files:
            try:
                name = path.relative_to(root).as_posix()
            except ValueError:
                name = path.as_posix()  # declared by absolute path outside the project
            digests[name] = file_sha256(path)
    return digests


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def this_runner() -> RunnerIdentity:
    """The identity of the current process."""
    return RunnerIdentity(host=socket.gethostname(), pid=os.getpid(),
                          start=process_start(os.getpid()))


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to survive PID reuse.

    None when there is no such process, or it has exited and only its zombie remains.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = stat[stat.rfind(")") + 2:].split()
    if fields and fields[0] in ("Z", "X"):  # exited; its parent has not reaped it yet
        return None
    return fields[19] if len(fields) > 19 else None


def runner_alive(runner: RunnerIdentity) -> bool | None:
    """Whether a runner on this host still runs; None if it is on another host."""
    if runner.host != socket.gethostname() or runner.pid <= 0:
        return None
    start = process_start(runner.pid)
    if start is not None:
        return runner.start is None or start == runner.start
    if Path("/proc").is_dir():
        return False  # no such process, or only its zombie
    try:  # no /proc: ask the kernel
        os.kill(runner.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
