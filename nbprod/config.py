"""Settings: defaults < ``[tool.nbprod]`` (or ``nbprod.toml``) < ``NBPROD_*`` env < flags.

Only the interfaces (CLI, server, widgets) call :func:`load_settings`; library code receives the
values it needs as arguments. The settings file is found by walking up from the working
directory, stopping at the repository root (the first folder holding ``.git``).
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import SettingsError

DEFAULT_DIR = ".nbprod"

# Top-level keys of [tool.nbprod]; tables other capabilities read are listed so a typo is
# caught instead of silently ignored.
_KNOWN_KEYS = frozenset({
    "notebook_dir", "registry", "store", "start_timeout", "cell_timeout", "timeout",
    "shutdown_timeout", "kernel", "strict", "heartbeat_interval", "busy_timeout", "notebooks",
    "fast_kernels", "template_idle", "max_templates", "templates_memory", "templates_dir",
    "pass_env", "identity", "dask_tls",
    "jobs", "lint", "test", "roles", "stages", "gates", "monitor",
    "server",
})
_NOTEBOOK_KEYS = frozenset({"path", "inputs", "kernel", "parameters", "test_parameters"})

# NBPROD_* variables and the setting each one sets, with its type.
_ENV: dict[str, tuple[str, type]] = {
    "NBPROD_REGISTRY": ("registry", str),
    "NBPROD_STORE": ("store", str),
    "NBPROD_NOTEBOOK_DIR": ("notebook_dir", str),
    "NBPROD_START_TIMEOUT": ("start_timeout", float),
    "NBPROD_CELL_TIMEOUT": ("cell_timeout", float),
    "NBPROD_TIMEOUT": ("timeout", float),
    "NBPROD_SHUTDOWN_TIMEOUT": ("shutdown_timeout", float),
    "NBPROD_KERNEL": ("kernel", str),
    "NBPROD_HEARTBEAT_INTERVAL": ("heartbeat_interval", float),
    "NBPROD_BUSY_TIMEOUT": ("busy_timeout", float),
    "NBPROD_FAST_KERNELS": ("fast_kernels", bool),
    "NBPROD_TEMPLATE_IDLE": ("template_idle", float),
    "NBPROD_MAX_TEMPLATES": ("max_templates", int),
    "NBPROD_TEMPLATES_MEMORY": ("templates_memory", int),
}


@dataclass(frozen=True)
class NotebookSettings:
    """``[tool.nbprod.notebooks.NAME]``: where a named notebook is and what it reads."""

    name: str
    path: str
    inputs: tuple[str, ...] = ()
    kernel: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    test_parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one project."""

    project_root: Path
    config_file: Path | None = None
    notebook_dir: str = "notebooks"
    registry: str = ""
    store: str = ""
    start_timeout: float = 60.0
    cell_timeout: float = 600.0
    timeout: float = 3600.0
    shutdown_timeout: float = 5.0
    kernel: str | None = None
    strict: bool = True
    heartbeat_interval: float = 10.0
    busy_timeout: float = 30.0
    fast_kernels: bool = True
    template_idle: float = 900.0
    max_templates: int = 3  # live kernel templates at most (least recently used stopped first)
    templates_memory: int = 1536  # MB the live templates (and their spare kernels) hold at most
    templates_dir: str = ""  # the project's own templates, over nbprod's (export/...)
    notebooks: Mapping[str, NotebookSettings] = field(default_factory=dict)
    # Variables (names or fnmatch patterns) sweep tasks carry to their workers besides NBPROD_*.
    pass_env: tuple[str, ...] = ()
    # Who acts: "os" (the operating-system user) or "env" (NBPROD_USER, for CI accounts).
    identity: str = "os"
    # Dask TLS files: {ca_file, cert, key} for tls:// scheduler addresses.
    dask_tls: Mapping[str, str] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def registry_url(self) -> str:
        """A SQLAlchemy URL; a bare path means a SQLite file."""
        value = self.registry or f"{DEFAULT_DIR}/registry.db"
        if "://" in value:
            return value
        path = Path(value)
        if not path.is_absolute():
            path = self.project_root / path
        return f"sqlite:///{path}"

    @property
    def store_url(self) -> str:
        """A folder path or an fsspec URL (``s3://bucket/prefix``)."""
        value = self.store or f"{DEFAULT_DIR}/artifacts"
        if "://" in value:
            return value
        path = Path(value)
        return str(path if path.is_absolute() else self.project_root / path)

    @property
    def templates_path(self) -> Path | None:
        """The project's ``templates_dir`` as an absolute path (None: not set)."""
        if not self.templates_dir:
            return None
        path = Path(self.templates_dir)
        return path if path.is_absolute() else self.project_root / path

    @property
    def work_dir(self) -> Path:
        """Scratch space for runs in progress (``.nbprod/tmp``)."""
        return self.project_root / DEFAULT_DIR / "tmp"

    def with_overrides(self, **values: Any) -> Settings:
        """A copy with the given (non-None) values, as command-line flags set them."""
        given = {k: v for k, v in values.items() if v is not None}
        for key, value in given.items():
            if key.endswith("timeout") and not 0 < float(value) < float("inf"):
                raise SettingsError(f"--{key.replace('_', '-')} must be a positive number of "
                                    f"seconds, got {value}")
        return replace(self, **given)

    def notebook(self, name: str) -> NotebookSettings | None:
        return self.notebooks.get(name)


def find_config(start: Path) -> tuple[Path, Path | None]:
    """Walk up from ``start`` to the project root; return it and its settings file, if any.

    A folder with ``nbprod.toml``, or a ``pyproject.toml`` holding ``[tool.nbprod]``, is the
    project root. The walk stops at the repository root (a folder with ``.git``); without a
    settings file the repository root, else ``start``, is the project root.
    """
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "nbprod.toml"
        if candidate.is_file():
            return folder, candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "nbprod" in _read_toml(pyproject).get("tool", {}):
            return folder, pyproject
        if (folder / ".git").exists():
            return folder, None
    return start, None


def load_settings(start: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Resolve settings for the project around ``start`` (default: the working directory)."""
    root, config_file = find_config(start or Path.cwd())
    table: dict[str, Any] = {}
    if config_file is not None:
        data = _read_toml(config_file)
        table = data.get("tool", {}).get("nbprod", {}) if config_file.name == "pyproject.toml" \
            else data
    _check_keys(table, _KNOWN_KEYS, str(config_file))
    values: dict[str, Any] = {k: v for k, v in table.items() if k in _SCALAR_FIELDS}
    for var, (key, kind) in _ENV.items():
        raw = (env if env is not None else os.environ).get(var)
        if raw:
            values[key] = _convert(raw, kind, var)
    _check_types(values, str(config_file or "environment"))
    notebooks = _notebooks(table.get("notebooks", {}), str(config_file))
    return Settings(project_root=root, config_file=config_file, notebooks=notebooks,
                    raw=table, **_trust_settings(table, root, str(config_file)), **values)


def _trust_settings(table: Mapping[str, Any], root: Path, where: str) -> dict[str, Any]:
    """``pass_env``, ``identity`` and ``dask_tls``: from the settings file only, never from
    ``NBPROD_*`` variables (which whoever runs the command controls)."""
    pass_env = table.get("pass_env", [])
    if not isinstance(pass_env, list) or not all(isinstance(p, str) for p in pass_env):
        raise SettingsError(f"{where}: pass_env must be a list of variable names or patterns")
    identity = table.get("identity", "os")
    if identity not in ("os", "env"):
        raise SettingsError(f"{where}: identity must be \"os\" or \"env\", got {identity!r}",
                            hint="\"env\" takes the acting user from NBPROD_USER (CI accounts)")
    tls = table.get("dask_tls", {})
    if not isinstance(tls, dict) or not set(tls) <= {"ca_file", "cert", "key"} or \
            not all(isinstance(v, str) for v in tls.values()):
        raise SettingsError(f"{where}: dask_tls must be a table of ca_file, cert and key paths")
    return {"pass_env": tuple(pass_env), "identity": identity,
            "dask_tls": {k: str(root / v) for k, v in tls.items()}}


_SCALAR_FIELDS = {
    "notebook_dir": str, "registry": str, "store": str, "start_timeout": float,
    "cell_timeout": float, "timeout": float, "shutdown_timeout": float, "kernel": str,
    "strict": bool, "heartbeat_interval": float, "busy_timeout": float,
    "fast_kernels": bool, "template_idle": float, "templates_dir": str,
    "max_templates": int, "templates_memory": int,
}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read settings: {exc.strerror}") from exc


def _check_keys(table: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"did you mean '{close[0]}'?" if close else \
                f"known settings: {', '.join(sorted(known))}"
            raise SettingsError(f"{where}: unknown setting '{key}'", hint=hint)


def _check_types(values: Mapping[str, Any], where: str) -> None:
    for key, value in values.items():
        expected = _SCALAR_FIELDS[key]
        ok = (isinstance(value, expected) and not (expected is int and isinstance(value, bool))
              ) or (expected is float and isinstance(value, int) and not isinstance(value, bool))
        if not ok:
            raise SettingsError(f"{where}: setting '{key}' must be {expected.__name__}, "
                                f"got {value!r}")
        if _SCALAR_FIELDS[key] in (float, int) and not 0 < float(value) < float("inf"):
            raise SettingsError(f"{where}: setting '{key}' must be positive, got {value}")


def _convert(raw: str, kind: type, var: str) -> Any:
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            raise SettingsError(f"{var}={raw!r} is not a number of seconds") from None
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{var}={raw!r} is not a whole number") from None
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{var}={raw!r} must be 1 or 0 (true or false)")
    return raw


def _notebooks(table: Any, where: str) -> dict[str, NotebookSettings]:
    if not isinstance(table, dict):
        raise SettingsError(f"{where}: 'notebooks' must be a table of [notebooks.NAME] tables")
    result: dict[str, NotebookSettings] = {}
    for name, entry in table.items():
        if not isinstance(entry, dict):
            raise SettingsError(f"{where}: [tool.nbprod.notebooks.{name}] must be a table")
        _check_keys(entry, _NOTEBOOK_KEYS, f"{where} [notebooks.{name}]")
        inputs = entry.get("inputs", [])
        if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
            raise SettingsError(f"{where}: notebooks.{name}.inputs must be a list of paths")
        for key in ("parameters", "test_parameters"):
            if not isinstance(entry.get(key, {}), dict):
                raise SettingsError(f"{where}: notebooks.{name}.{key} must be a table of "
                                    "parameter names to values")
        if not isinstance(entry.get("path", ""), str) or not isinstance(
                entry.get("kernel") or "", str):
            raise SettingsError(f"{where}: notebooks.{name}.path and .kernel must be strings")
        result[name] = NotebookSettings(
            name=name,
            path=str(entry.get("path", "")),
            inputs=tuple(inputs),
            kernel=entry.get("kernel"),
            parameters=dict(entry.get("parameters", {})),
            test_parameters=dict(entry.get("test_parameters", {})),
        )
    return result


def os_user() -> str:
    """The operating-system user running this process (from its uid, not the environment)."""
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid-{os.getuid()}"


def claimed_user(environ: Mapping[str, str]) -> str | None:
    """The user ``NBPROD_USER`` claims, if set."""
    return environ.get("NBPROD_USER") or None


def current_user(environ: Mapping[str, str], identity: str = "os") -> str:
    """Who acts: the operating-system user; ``NBPROD_USER`` only with ``identity = "env"``
    (settings for CI service accounts). See docs/identity.md for what this guarantees."""
    if identity == "env" and claimed_user(environ):
        return str(environ["NBPROD_USER"])
    return os_user()


# A user name in [tool.nbprod.server.users]; a stored token hash (jupyter_server's format).
USER_NAME = re.compile(r"[A-Za-z0-9._@-]{1,100}")
_TOKEN_HASH = re.compile(r"(argon2:\S+|[a-z0-9]+:[0-9a-f]+:[0-9a-f]+)")


def server_users(settings: Settings) -> dict[str, str]:
    """``[tool.nbprod.server.users]``: user name -> hashed token, checked."""
    table = settings.raw.get("server") or {}
    where = "[tool.nbprod.server]"
    if not isinstance(table, dict):
        raise SettingsError(f"{where} must be a table")
    unknown = set(table) - {"users"}
    if unknown:
        raise SettingsError(f"{where}: unknown setting '{sorted(unknown)[0]}'",
                            hint="known: users")
    users = table.get("users", {})
    if not isinstance(users, dict):
        raise SettingsError(f"{where}.users must map user names to hashed tokens")
    for name, hashed in users.items():
        if not USER_NAME.fullmatch(name):
            raise SettingsError(f"{where}.users: '{name[:50]}' is not a user name",
                                hint="use letters, digits, '.', '_', '@' and '-'")
        if not isinstance(hashed, str) or not _TOKEN_HASH.fullmatch(hashed):
            raise SettingsError(f"{where}.users.{name} must be a hashed token, not the token",
                                hint="`nbprod serve --new-token NAME` prints a token and its "
                                     "hash")
    return dict(users)
