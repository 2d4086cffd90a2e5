"""Settings: defaults < [tool.nbprod] / nbprod.toml < NBPROD_* environment < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbprod.config import Settings, find_config, load_settings
from nbprod.errors import EXIT_INVALID_INPUT, SettingsError


def _project(root: Path, pyproject: str | None = None, nbprod_toml: str | None = None,
             git: bool = False) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if pyproject is not None:
        (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    if nbprod_toml is not None:
        (root / "nbprod.toml").write_text(nbprod_toml, encoding="utf-8")
    if git:
        (root / ".git").mkdir()
    return root


PYPROJECT = """\
[project]
name = "demo"

[tool.nbprod]
notebook_dir = "nbs"
timeout = 120
cell_timeout = 30.5
kernel = "python3"
strict = false

[tool.nbprod.notebooks.train]
path = "nbs/train.ipynb"
inputs = ["data/train.csv", "data/*.parquet"]
kernel = "gpu"
parameters = { alpha = 0.5 }
test_parameters = { n = 10 }

[tool.nbprod.notebooks.report]
path = "nbs/report.ipynb"
"""


def test_pyproject_found_walking_up_from_a_subfolder(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj", pyproject=PYPROJECT, git=True)
    deep = root / "nbs" / "sub"
    deep.mkdir(parents=True)

    settings = load_settings(deep, env={})

    assert settings.project_root == root
    assert settings.config_file == root / "pyproject.toml"
    assert settings.notebook_dir == "nbs"
    assert settings.timeout == 120
    assert settings.cell_timeout == 30.5
    assert settings.start_timeout == 60.0  # default
    assert settings.kernel == "python3"
    assert settings.strict is False


def test_notebooks_table_is_parsed(tmp_path: Path) -> None:
    settings = load_settings(_project(tmp_path / "proj", pyproject=PYPROJECT), env={})

    assert sorted(settings.notebooks) == ["report", "train"]
    train = settings.notebook("train")
    assert train is not None
    assert train.path == "nbs/train.ipynb"
    assert train.inputs == ("data/train.csv", "data/*.parquet")
    assert train.kernel == "gpu"
    assert dict(train.parameters) == {"alpha": 0.5}
    assert dict(train.test_parameters) == {"n": 10}
    report = settings.notebook("report")
    assert report is not None
    assert (report.inputs, report.kernel, dict(report.parameters)) == ((), None, {})
    assert settings.notebook("missing") is None


def test_nbprod_toml_works_too(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj", nbprod_toml='notebook_dir = "."\ntimeout = 5\n'
                                                   '[notebooks.a]\npath = "a.ipynb"\n')
    (root / "sub").mkdir()

    settings = load_settings(root / "sub", env={})

    assert (settings.project_root, settings.config_file) == (root, root / "nbprod.toml")
    assert (settings.notebook_dir, settings.timeout) == (".", 5.0)
    assert settings.notebook("a") is not None


def test_nbprod_toml_wins_over_pyproject_in_the_same_folder(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj", pyproject=PYPROJECT, nbprod_toml="timeout = 7\n")

    settings = load_settings(root, env={})

    assert settings.config_file == root / "nbprod.toml"
    assert settings.timeout == 7.0


def test_pyproject_without_tool_nbprod_is_passed_over(tmp_path: Path) -> None:
    outer = _project(tmp_path / "outer", nbprod_toml="timeout = 9\n")
    inner = _project(outer / "pkg", pyproject="[project]\nname = 'x'\n[tool.ruff]\n")

    root, config = find_config(inner)

    assert (root, config) == (outer, outer / "nbprod.toml")


def test_walk_stops_at_the_repository_root(tmp_path: Path) -> None:
    outer = _project(tmp_path / "outer", nbprod_toml="timeout = 9\n")
    repo = _project(outer / "repo", git=True)
    (repo / "src").mkdir()

    settings = load_settings(repo / "src", env={})

    assert settings.project_root == repo
    assert settings.config_file is None
    assert settings.timeout == 3600.0


def test_git_file_of_a_worktree_also_stops_the_walk(tmp_path: Path) -> None:
    outer = _project(tmp_path / "outer", nbprod_toml="timeout = 9\n")
    repo = _project(outer / "worktree")
    (repo / ".git").write_text("gitdir: /elsewhere\n")

    assert find_config(repo) == (repo, None)


def test_without_settings_or_repository_the_start_is_the_root(tmp_path: Path) -> None:
    start = tmp_path / "a" / "b"
    start.mkdir(parents=True)

    settings = load_settings(start, env={})

    assert settings.project_root == start
    assert settings.config_file is None


def test_defaults_live_under_dot_nbprod(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj", nbprod_toml="")

    settings = load_settings(root, env={})

    assert settings.registry_url == f"sqlite:///{root / '.nbprod' / 'registry.db'}"
    assert settings.registry_url.startswith("sqlite:////")
    assert settings.store_url == str(root / ".nbprod" / "artifacts")
    assert settings.work_dir == root / ".nbprod" / "tmp"


@pytest.mark.parametrize(("registry", "expected"), [
    ("db/registry.db", "sqlite:///{root}/db/registry.db"),
    ("/var/nbprod/registry.db", "sqlite:////var/nbprod/registry.db"),
    ("postgresql://u@h/db", "postgresql://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_bare_registry_path_becomes_an_absolute_sqlite_url(tmp_path: Path, registry: str,
                                                          expected: str) -> None:
    root = _project(tmp_path / "proj", nbprod_toml=f"registry = {registry!r}\n")

    assert load_settings(root, env={}).registry_url == expected.format(root=root)


@pytest.mark.parametrize(("store", "expected"), [
    ("shared/artifacts", "{root}/shared/artifacts"),
    ("/mnt/artifacts", "/mnt/artifacts"),
    ("s3://bucket/prefix", "s3://bucket/prefix"),
])
def test_store_url(tmp_path: Path, store: str, expected: str) -> None:
    root = _project(tmp_path / "proj", nbprod_toml=f"store = {store!r}\n")

    assert load_settings(root, env={}).store_url == expected.format(root=root)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj", pyproject=PYPROJECT)
    env = {"NBPROD_TIMEOUT": "42", "NBPROD_CELL_TIMEOUT": "1.5", "NBPROD_START_TIMEOUT": "9",
           "NBPROD_SHUTDOWN_TIMEOUT": "2", "NBPROD_HEARTBEAT_INTERVAL": "0.5",
           "NBPROD_KERNEL": "julia", "NBPROD_NOTEBOOK_DIR": "other",
           "NBPROD_REGISTRY": "postgresql://h/db", "NBPROD_STORE": "/mnt/s",
           "UNRELATED": "x"}

    settings = load_settings(root, env=env)

    assert (settings.timeout, settings.cell_timeout, settings.start_timeout) == (42.0, 1.5, 9.0)
    assert (settings.shutdown_timeout, settings.heartbeat_interval) == (2.0, 0.5)
    assert (settings.kernel, settings.notebook_dir) == ("julia", "other")
    assert settings.registry_url == "postgresql://h/db"
    assert settings.store_url == "/mnt/s"


def test_process_environment_is_read_when_no_env_is_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path / "proj", pyproject=PYPROJECT)
    monkeypatch.setenv("NBPROD_TIMEOUT", "11")
    monkeypatch.chdir(root)

    settings = load_settings()

    assert settings.timeout == 11.0
    assert settings.project_root == root


def test_empty_environment_variable_is_ignored(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj", pyproject=PYPROJECT)

    assert load_settings(root, env={"NBPROD_TIMEOUT": ""}).timeout == 120


def test_flags_override_the_environment(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj", pyproject=PYPROJECT)
    settings = load_settings(root, env={"NBPROD_TIMEOUT": "42", "NBPROD_KERNEL": "julia"})

    flagged = settings.with_overrides(timeout=5, kernel=None, cell_timeout=2.5)

    assert (flagged.timeout, flagged.kernel, flagged.cell_timeout) == (5, "julia", 2.5)
    assert settings.timeout == 42.0  # the original is unchanged


@pytest.mark.parametrize("value", [0, -1, "-0.5"])
def test_flags_refuse_non_positive_timeouts(tmp_path: Path, value: object) -> None:
    settings = load_settings(_project(tmp_path / "proj", nbprod_toml=""), env={})

    with pytest.raises(SettingsError) as info:
        settings.with_overrides(cell_timeout=value)

    assert info.value.one_line() == \
        f"--cell-timeout must be a positive number of seconds, got {value}"


@pytest.mark.parametrize(("body", "suggestion"), [
    ("timeuot = 5\n", "did you mean 'timeout'?"),
    ("notebok_dir = 'x'\n", "did you mean 'notebook_dir'?"),
    ("zzz = 1\n", "known settings: "),
])
def test_unknown_key_is_refused_with_a_suggestion(tmp_path: Path, body: str,
                                                  suggestion: str) -> None:
    root = _project(tmp_path / "proj", nbprod_toml=body)
    key = body.split(" ")[0]

    with pytest.raises(SettingsError) as info:
        load_settings(root, env={})

    message = info.value.one_line()
    assert message.startswith(f"{root / 'nbprod.toml'}: unknown setting '{key}'; ")
    assert suggestion in message
    assert info.value.exit_code == EXIT_INVALID_INPUT


def test_unknown_key_in_a_notebook_table(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj",
                    nbprod_toml='[notebooks.train]\npath = "t.ipynb"\ninptus = []\n')

    with pytest.raises(SettingsError) as info:
        load_settings(root, env={})

    assert "[notebooks.train]: unknown setting 'inptus'; did you mean 'inputs'?" in \
        info.value.one_line()


@pytest.mark.parametrize(("body", "says"), [
    ('timeout = "long"\n', "setting 'timeout' must be float, got 'long'"),
    ("timeout = true\n", "setting 'timeout' must be float, got True"),
    ("strict = 1\n", "setting 'strict' must be bool, got 1"),
    ("kernel = 3\n", "setting 'kernel' must be str, got 3"),
    ("notebook_dir = []\n", "setting 'notebook_dir' must be str, got []"),
    ("timeout = -1\n", "setting 'timeout' must be positive, got -1"),
    ("cell_timeout = 0\n", "setting 'cell_timeout' must be positive, got 0"),
    ("heartbeat_interval = -0.5\n", "setting 'heartbeat_interval' must be positive"),
    ("[notebooks]\ntrain = 'x.ipynb'\n", "[tool.nbprod.notebooks.train] must be a table"),
    ("[notebooks.t]\ninputs = 'data.csv'\n", "notebooks.t.inputs must be a list of paths"),
    ("[notebooks.t]\ninputs = [1]\n", "notebooks.t.inputs must be a list of paths"),
    ("timeout = \n", "not valid TOML"),
])
def test_wrong_types_and_values_are_refused(tmp_path: Path, body: str, says: str) -> None:
    root = _project(tmp_path / "proj", nbprod_toml=body)

    with pytest.raises(SettingsError) as info:
        load_settings(root, env={})

    assert info.value.one_line().startswith(str(root / "nbprod.toml"))
    assert says in info.value.one_line()


@pytest.mark.parametrize(("var", "value", "says"), [
    ("NBPROD_TIMEOUT", "soon", "NBPROD_TIMEOUT='soon' is not a number of seconds"),
    ("NBPROD_CELL_TIMEOUT", "-5", "environment: setting 'cell_timeout' must be positive"),
    ("NBPROD_HEARTBEAT_INTERVAL", "0", "setting 'heartbeat_interval' must be positive"),
])
def test_bad_environment_values_are_refused(tmp_path: Path, var: str, value: str,
                                            says: str) -> None:
    root = _project(tmp_path / "proj")

    with pytest.raises(SettingsError) as info:
        load_settings(root, env={var: value})

    assert says in info.value.one_line()


@pytest.mark.parametrize("where", ["file", "env", "flag"])
def test_nan_timeout_is_refused(tmp_path: Path, where: str) -> None:
    body = "timeout = nan\n" if where == "file" else ""
    root = _project(tmp_path / "proj", nbprod_toml=body)
    env = {"NBPROD_TIMEOUT": "nan"} if where == "env" else {}

    try:
        settings = load_settings(root, env=env)
        if where == "flag":
            settings = settings.with_overrides(timeout=float("nan"))
    except SettingsError as exc:
        assert "timeout" in exc.one_line()
    else:
        raise AssertionError(f"accepted timeout {settings.timeout}")


@pytest.mark.parametrize("body", [
    'notebooks = ["a.ipynb"]\n',
    '[notebooks.t]\npath = "t.ipynb"\nparameters = "alpha=1"\n',
    '[notebooks.t]\npath = "t.ipynb"\ntest_parameters = 5\n',
])
def test_badly_typed_notebooks_table_is_a_settings_error(tmp_path: Path, body: str) -> None:
    root = _project(tmp_path / "proj", nbprod_toml=body)

    with pytest.raises(SettingsError) as info:
        load_settings(root, env={})

    assert str(root / "nbprod.toml") in info.value.one_line()


def test_settings_defaults() -> None:
    settings = Settings(project_root=Path("/p"))

    assert (settings.start_timeout, settings.cell_timeout, settings.timeout) == (60, 600, 3600)
    assert settings.strict is True
    assert settings.notebooks == {}
