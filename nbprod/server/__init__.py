"""nbprod in the browser: a jupyter_server extension serving a dashboard and a REST API.

``jupyter lab`` (or any Jupyter server) loads it once nbprod is installed and serves it at
``/nbprod/``; ``nbprod serve [DIR]`` runs it standalone. See ``app.py`` and docs/server.md.
"""

from __future__ import annotations

from typing import Any

from ..about import __version__

__all__ = ["__version__"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """Where jupyter_server finds the extension (``jpserver_extensions = {"nbprod.server"}``)."""
    from .app import NbprodApp

    return [{"module": "nbprod.server", "app": NbprodApp}]
