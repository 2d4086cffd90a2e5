"""The project a use case works on: its folder, registry, store and run defaults.

Built by an interface from resolved :class:`~nbprod.config.Settings` and the process
environment it wants kernels to inherit; everything below receives these objects explicitly.
The registry is opened when first used, so a use case that may not need it (``nbprod lint``
of files whose results are already recorded) does not pay for SQLAlchemy and a connection.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import NotebookSettings, Settings, claimed_user, current_user, os_user
from ..errors import NotFound
from ..kernels.cap import MB, Limits
from ..lineage import runner_alive
from ..store import Store, open_store

if TYPE_CHECKING:
    from ..registry import Registry

# A running run's notebook as it stands, in its scratch folder (``.nbprod/tmp/<run_id>``).
PARTIAL_NOTEBOOK = "notebook.partial.ipynb"


@dataclass(frozen=True)
class RunDefaults:
    """Execution settings a run uses unless told otherwise."""

    start_timeout: float = 60.0
    cell_timeout: float = 600.0
    timeout: float = 3600.0
    shutdown_timeout: float = 5.0
    kernel: str | None = None
    strict: bool = True
    heartbeat_interval: float = 10.0
    fast_kernels: bool = True
    template_idle: float = 900.0
    template_limits: Limits = field(default_factory=Limits)  # kernels/cap.py


@dataclass
class Project:
    """An open nbprod project."""

    root: Path
    registry_url: str
    store: Store
    notebook_dir: str = "notebooks"
    notebooks: Mapping[str, NotebookSettings] = field(default_factory=dict)
    defaults: RunDefaults = field(default_factory=RunDefaults)
    kernel_env: Mapping[str, str] = field(default_factory=dict)
    user: str = ""  # who acts (settings' identity: the OS user, or NBPROD_USER for "env")
    settings: Settings | None = None
    os_user: str = ""  # the operating-system user running this process
    claimed_user: str | None = None  # what NBPROD_USER says, trusted or not
    busy_timeout: float = 30.0
    _registry: Registry | None = field(default=None, repr=False)

    @property
    def registry(self) -> Registry:
        """The registry, opened (and migrated if needed) on first use."""
        if self._registry is None:
            from ..registry import Registry

            self._registry = Registry.open(self.registry_url, busy_timeout=self.busy_timeout)
        return self._registry

    @property
    def work_dir(self) -> Path:
        return self.root / ".nbprod" / "tmp"

    @property
    def cache_dir(self) -> Path:
        return self.root / ".nbprod" / "cache"

    def close(self) -> None:
        if self._registry is not None:
            self._registry.close()
            self._registry = None

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def resolve_notebook(self, ref: str) -> tuple[Path, NotebookSettings | None]:
        """A notebook path from a path or a name declared in settings / in notebook_dir."""
        return find_notebook(self.root, self.notebook_dir, self.notebooks, ref)

    def relative(self, path: Path) -> str:
        """``path`` relative to the project root when inside it (posix), else absolute."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    def settings_for(self, notebook: str) -> NotebookSettings | None:
        """The settings entry of a project-relative notebook path, if one declares it."""
        return _settings_for(self.root, self.notebooks, (self.root / notebook).resolve())

    def reap_lost(self) -> list[str]:
        """Turn runs whose runner vanished into ``lost``, keeping the notebook each one had
        saved so far (its finished cells) as the lost run's ``notebook.ipynb``."""
        stale = dt.datetime.now(dt.UTC) - dt.timedelta(
            seconds=max(60.0, 6 * self.defaults.heartbeat_interval))
        reaped = self.registry.reap_lost(runner_alive, stale)
        self._keep_partial_notebooks()
        return reaped

    def _keep_partial_notebooks(self) -> None:
        """Store the autosaved notebooks of lost runs left in this machine's scratch folder."""
        try:
            folders = {p.name: p for p in self.work_dir.iterdir()
                       if (p / PARTIAL_NOTEBOOK).is_file()}
        except OSError:
            return
        if not folders:
            return
        for record in self.registry.list_runs(run_ids=list(folders)):
            if record.state != "lost" or record.artifact("notebook.ipynb") is not None:
                continue
            folder = folders[record.run_id]
            key = f"runs/{record.run_id}/notebook.ipynb"
            if self.store.exists(key):  # stored by another reader that stopped half-way
                data = self.store.read_bytes(key)
                size, sha = len(data), hashlib.sha256(data).hexdigest()
            else:
                stored = self.store.put_file(key, folder / PARTIAL_NOTEBOOK)
                size, sha = stored.size, stored.sha256
            self.registry.add_lost_artifacts(record.run_id, [("notebook.ipynb", key, sha, size)])
            shutil.rmtree(folder, ignore_errors=True)


def find_notebook(root: Path, notebook_dir: str, notebooks: Mapping[str, NotebookSettings],
                  ref: str) -> tuple[Path, NotebookSettings | None]:
    """A notebook path from a path or a name declared in settings / in ``notebook_dir``, and
    the settings entry that declares it (None: not declared)."""
    entry = notebooks.get(ref)
    candidates: list[Path] = []
    if entry is not None:
        candidates.append(root / (entry.path or f"{notebook_dir}/{ref}.ipynb"))
    given = Path(ref)
    candidates += [given if given.is_absolute() else Path.cwd() / given, root / given]
    if given.suffix != ".ipynb":
        candidates.append(root / notebook_dir / f"{ref}.ipynb")
    for path in candidates:
        if path.is_file():
            resolved = path.resolve()
            return resolved, entry or _settings_for(root, notebooks, resolved)
        if path.is_dir():
            raise NotFound(f"{ref} is a folder, not a notebook")
    names = ", ".join(sorted(notebooks)) or "none declared"
    raise NotFound(f"no notebook '{ref}'",
                   hint=f"give a path to an .ipynb file or a declared name ({names})")


def _settings_for(root: Path, notebooks: Mapping[str, NotebookSettings],
                  path: Path) -> NotebookSettings | None:
    for entry in notebooks.values():
        if entry.path and (root / entry.path).resolve() == path:
            return entry
    return None


def open_project(settings: Settings, environ: Mapping[str, str]) -> Project:
    """The project ``settings`` name: its store, and its registry (opened on first use)."""
    defaults = RunDefaults(
        start_timeout=settings.start_timeout, cell_timeout=settings.cell_timeout,
        timeout=settings.timeout, shutdown_timeout=settings.shutdown_timeout,
        kernel=settings.kernel, strict=settings.strict,
        heartbeat_interval=settings.heartbeat_interval, fast_kernels=settings.fast_kernels,
        template_idle=settings.template_idle,
        template_limits=Limits(settings.max_templates, settings.templates_memory * MB))
    return Project(root=settings.project_root, registry_url=settings.registry_url,
                   busy_timeout=settings.busy_timeout, store=open_store(settings.store_url),
                   notebook_dir=settings.notebook_dir,
                   notebooks=settings.notebooks, defaults=defaults,
                   kernel_env=dict(environ), user=current_user(environ, settings.identity),
                   settings=settings, os_user=os_user(), claimed_user=claimed_user(environ))
