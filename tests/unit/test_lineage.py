"""Where a run comes from: git state, input digests, environment digest, runner process."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from nbprod.errors import EXIT_INVALID_INPUT, NotFound
from nbprod.lineage import (
    file_sha256,
    git_state,
    input_digests,
    process_start,
    python_environment,
    runner_alive,
    this_runner,
)
from nbprod.registry import RunnerIdentity


@pytest.fixture
def clean_git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No repository around tmp_path leaks in, whatever the environment of the test run."""
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com",
         "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=repo, capture_output=True, text=True, check=True, timeout=30)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, clean_git_env: None) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "train.py").write_text("print('v1')\n")
    (root / "sub").mkdir()
    (root / "sub" / "notes.md").write_text("notes\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "first")
    return root


def test_git_state_of_a_clean_checkout(repo: Path) -> None:
    state = git_state(repo)

    assert state.commit == _git(repo, "rev-parse", "HEAD")
    assert len(state.commit) == 40
    assert state.dirty is False


def test_git_state_from_a_subfolder(repo: Path) -> None:
    assert git_state(repo / "sub").commit == _git(repo, "rev-parse", "HEAD")


def test_git_state_after_editing_a_tracked_file_is_dirty(repo: Path) -> None:
    (repo / "train.py").write_text("print('v2')\n")

    state = git_state(repo)

    assert state.commit == _git(repo, "rev-parse", "HEAD")
    assert state.dirty is True


def test_git_state_follows_a_new_commit(repo: Path) -> None:
    first = git_state(repo).commit
    (repo / "train.py").write_text("print('v2')\n")
    _git(repo, "commit", "-q", "-am", "second")

    state = git_state(repo)

    assert state.commit != first
    assert state.dirty is False


def test_untracked_files_do_not_make_the_tree_dirty(repo: Path) -> None:
    (repo / "scratch.txt").write_text("x")

    assert git_state(repo).dirty is False


def test_git_state_outside_a_repository(tmp_path: Path, clean_git_env: None) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()

    state = git_state(folder)

    assert (state.commit, state.dirty) == (None, None)


def test_git_state_of_a_repository_without_commits(tmp_path: Path,
                                                   clean_git_env: None) -> None:
    _git(tmp_path, "init", "-q")

    assert (git_state(tmp_path).commit, git_state(tmp_path).dirty) == (None, None)


# -- input_digests ----------------------------------------------------------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "data" / "raw" / "deep").mkdir(parents=True)
    (root / "data" / "train.csv").write_bytes(b"a,b\n1,2\n")
    (root / "data" / "test.csv").write_bytes(b"a,b\n3,4\n")
    (root / "data" / "notes.txt").write_bytes(b"notes")
    (root / "data" / "raw" / "r1.json").write_bytes(b"{}")
    (root / "data" / "raw" / "deep" / "r2.json").write_bytes(b"[]")
    (root / "model.joblib").write_bytes(b"model")
    return root


def test_input_digests_of_files_globs_and_folders(data_root: Path) -> None:
    digests = input_digests(data_root, ["model.joblib", "data/*.csv", "data/raw"], "here")

    assert digests == {
        "model.joblib": _sha(b"model"),
        "data/test.csv": _sha(b"a,b\n3,4\n"),
        "data/train.csv": _sha(b"a,b\n1,2\n"),
        "data/raw/r1.json": _sha(b"{}"),
        "data/raw/deep/r2.json": _sha(b"[]"),
    }


def test_recursive_glob(data_root: Path) -> None:
    assert sorted(input_digests(data_root, ["data/**/*.json"], "here")) == \
        ["data/raw/deep/r2.json", "data/raw/r1.json"]


def test_digests_follow_the_content(data_root: Path) -> None:
    before = input_digests(data_root, ["data/train.csv"], "here")
    (data_root / "data" / "train.csv").write_bytes(b"a,b\n1,3\n")

    assert input_digests(data_root, ["data/train.csv"], "here") != before


@pytest.mark.parametrize("pattern", ["data/missing.csv", "data/*.parquet", "nothing/",
                                     "data/raw/empty"])
def test_missing_input_names_the_pattern_and_where_it_was_declared(
        data_root: Path, pattern: str) -> None:
    (data_root / "data" / "raw" / "empty").mkdir()

    with pytest.raises(NotFound) as info:
        input_digests(data_root, ["model.joblib", pattern],
                      "[tool.nbprod.notebooks.train]")

    assert info.value.exit_code == EXIT_INVALID_INPUT
    assert info.value.one_line().startswith(
        f"declared input {pattern} ([tool.nbprod.notebooks.train]) does not exist; ")


def test_no_inputs_no_digests(data_root: Path) -> None:
    assert input_digests(data_root, [], "here") == {}


def test_project_folder_with_brackets_in_its_name(tmp_path: Path) -> None:
    root = tmp_path / "proj [v2]"
    (root / "data").mkdir(parents=True)
    (root / "data" / "train.csv").write_bytes(b"x")

    assert input_digests(root, ["data/train.csv"], "here") == {"data/train.csv": _sha(b"x")}


def test_absolute_input_outside_the_project(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    shared = tmp_path / "shared" / "lookup.csv"
    shared.parent.mkdir()
    shared.write_bytes(b"x")

    try:
        digests = input_digests(root, [str(shared)], "here")
    except NotFound:
        return  # refusing it clearly would also be fine
    assert list(digests.values()) == [_sha(b"x")]


def test_file_sha256_of_a_large_file(tmp_path: Path) -> None:
    data = os.urandom((1 << 20) * 2 + 3)
    path = tmp_path / "big"
    path.write_bytes(data)

    assert file_sha256(path) == _sha(data)


# -- the runner process -----------------------------------------------------------------


def _unused_pid() -> int:
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    return pid_max + 1  # above pid_max: no process can have it


def test_process_start_of_this_process() -> None:
    start = process_start(os.getpid())

    assert start is not None
    assert start.isdigit()
    assert process_start(os.getpid()) == start


def test_process_start_of_a_missing_process() -> None:
    assert process_start(_unused_pid()) is None


def test_this_runner_is_alive() -> None:
    runner = this_runner()

    assert runner.pid == os.getpid()
    assert runner.host == socket.gethostname()
    assert runner_alive(runner) is True


def test_runner_with_unknown_start_is_alive_when_the_pid_is() -> None:
    runner = RunnerIdentity(host=socket.gethostname(), pid=os.getpid(), start=None)

    assert runner_alive(runner) is True


def test_runner_that_no_longer_exists_is_dead() -> None:
    runner = RunnerIdentity(host=socket.gethostname(), pid=_unused_pid(), start="12345")

    assert runner_alive(runner) is False


def test_reused_pid_is_not_the_same_runner() -> None:
    start = process_start(os.getpid())
    assert start is not None
    runner = RunnerIdentity(host=socket.gethostname(), pid=os.getpid(),
                            start=str(int(start) + 1))

    assert runner_alive(runner) is False


@pytest.mark.parametrize("runner", [
    RunnerIdentity(host="some-other-host.invalid", pid=1, start=None),
    RunnerIdentity(host=socket.gethostname(), pid=0, start=None),
    RunnerIdentity(host=socket.gethostname(), pid=-1, start=None),
])
def test_runner_that_cannot_be_checked_is_unknown(runner: RunnerIdentity) -> None:
    assert runner_alive(runner) is None


# -- python_environment -----------------------------------------------------------------


def test_python_environment_is_stable_and_cached(tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    first = python_environment(cache)
    files = list(cache.glob("environment-*.json"))
    second = python_environment(cache)

    assert first == second
    assert len(first.digest) == 64
    assert any(p.startswith("nbformat==") for p in first.packages)
    assert list(first.packages) == sorted(first.packages)
    assert len(files) == 1
    assert json.loads(files[0].read_text())["digest"] == first.digest
    assert not list(cache.glob("*.tmp"))


def test_python_environment_reads_its_cache_file(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    real = python_environment(cache)
    (cache_file,) = cache.glob("environment-*.json")
    cache_file.write_text(json.dumps({"digest": "cached", "python": real.python,
                                      "packages": ["x==1"]}))

    cached = python_environment(cache)

    assert (cached.digest, cached.packages) == ("cached", ("x==1",))


def test_python_environment_ignores_a_corrupt_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    real = python_environment(cache)
    (cache_file,) = cache.glob("environment-*.json")
    cache_file.write_text("{not json")

    assert python_environment(cache).digest == real.digest


def test_python_environment_without_cache_matches(tmp_path: Path) -> None:
    assert python_environment(None).digest == python_environment(tmp_path / "c").digest
