"""The jupyter_server extension: nbprod's dashboard and REST API under ``/nbprod/``.

Loaded two ways, the same app both times:

- inside any Jupyter server (``jupyter lab``): installing nbprod enables it
  (``jupyter-config/server-config/nbprod.json``), it serves the project found from the
  server's root folder, behind the server's own login;
- standalone, ``nbprod serve [DIR]`` (``python -m nbprod.server``): a server of its own on
  127.0.0.1 with only this extension, nbprod's identity provider (users with hashed tokens from
  ``[tool.nbprod.server]``) and an authorizer that refuses every other Jupyter resource
  (kernels, terminals, contents): a viewer of the dashboard cannot run code through it.

The app reads the project's settings as the CLI does (``config.load_settings``), keeps one open
project (registry, store), and re-reads the settings when their file changes.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp, ExtensionAppJinjaMixin
from traitlets import Int, Unicode

from .. import api
from ..api.access import Permissions, acting_as, permissions
from ..config import Settings, load_settings, server_users
from .routes import routes
from .tasks import TaskRunner

HERE = Path(__file__).parent


class NbprodApp(ExtensionAppJinjaMixin, ExtensionApp):
    """nbprod's dashboard and REST API."""

    name = "nbprod"
    description = "nbprod: runs, jobs and promotion in the browser"
    extension_url = "/nbprod/"
    load_other_extensions = False
    open_browser = False
    static_paths = [str(HERE / "static")]
    template_paths = [str(HERE / "templates")]
    # Only when launched standalone (nbprod serve): see the module docstring.
    serverapp_config = {
        "ip": "127.0.0.1",
        "open_browser": False,
        "terminals_enabled": False,
        "identity_provider_class": "nbprod.server.identity.NbprodIdentityProvider",
        "authorizer_class": "nbprod.server.identity.NbprodAuthorizer",
    }

    project_dir = Unicode(
        "", config=True,
        help="The nbprod project to serve (default: the one around the server's root folder).")
    workers = Int(
        2, config=True,
        help="How many runs and job runs started from the server execute at once.")

    @classmethod
    def get_extension_package(cls) -> str:
        return "nbprod.server"  # not the top-level nbprod, which every kernel imports

    def _prepare_templates(self) -> None:
        super()._prepare_templates()
        from .present import FILTERS

        environment: Any = self.settings[f"{self.name}_jinja2_env"]
        environment.filters.update(FILTERS)

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        root = Path(self.project_dir or self.serverapp.root_dir or os.getcwd())
        self.state = ProjectState(root.expanduser())
        self.tasks = TaskRunner(self.workers, self.log)
        self.reads = concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="nbprod-api")
        from .identity import NbprodIdentityProvider

        provider = self.serverapp.identity_provider
        if isinstance(provider, NbprodIdentityProvider):
            provider.declared = self.state.users
        self.log.info("nbprod: the dashboard is at %snbprod/ for the project around %s",
                      self.serverapp.base_url, root)

    def initialize_handlers(self) -> None:
        self.handlers.extend(routes())

    async def stop_extension(self) -> None:
        self.reads.shutdown(wait=False, cancel_futures=True)
        self.state.close()

    # -- what handlers use -----------------------------------------------------------------

    def project(self, user: str) -> api.Project:
        """The open project, with ``user`` as the one acting."""
        return acting_as(self.state.project(), user)

    def permissions(self, user: str) -> Permissions:
        return permissions(self.state.project(), user)


class ProjectState:
    """The project's settings, read on first use and again when their file changes (a roles
    edit applies without a restart), and its registry and store, opened on the first request
    that needs them: a Jupyter server started in a folder nobody browses nbprod for gets no
    ``.nbprod/`` there. A settings problem is the answer to each request, not a failed start.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._settings: Settings | None = None
        self._stamp: Any = None
        self._users: dict[str, str] = {}
        self._project: api.Project | None = None

    def settings(self) -> Settings:
        with self._lock:
            if self._settings is None or _stamp(self._settings) != self._stamp:
                settings = load_settings(self.root, env=os.environ)
                users = server_users(settings)
                self._settings, self._stamp, self._users = settings, _stamp(settings), users
            return self._settings

    def users(self) -> dict[str, str]:
        """``[tool.nbprod.server.users]`` as the settings say now."""
        self.settings()
        return self._users

    def project(self) -> api.Project:
        settings = self.settings()
        with self._lock:
            current = self._project
            if current is None or current.settings is None or \
                    (current.settings.registry_url, current.settings.store_url) != \
                    (settings.registry_url, settings.store_url):
                # A registry or store that changed is opened anew; the one before stays open
                # for the runs still using it.
                current = self._project = api.open_project(settings, os.environ)
            elif current.settings is not settings:
                current = self._project = _with_settings(current, settings)
            return current

    def close(self) -> None:
        if self._project is not None:
            self._project.close()


def _with_settings(project: api.Project, settings: Settings) -> api.Project:
    import dataclasses

    return dataclasses.replace(project, settings=settings, notebooks=settings.notebooks,
                               notebook_dir=settings.notebook_dir)


def _stamp(settings: Settings) -> Any:
    path = settings.config_file
    try:
        return (path, path.stat().st_mtime_ns) if path is not None else None
    except OSError:
        return (path, None)
