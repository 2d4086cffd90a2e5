"""Every route the extension serves, in one place: the REST API under ``/nbprod/api/``, the
pages under ``/nbprod/``, and a 404 for anything else there (authenticated like the rest).

An API handler declares its OpenAPI path (``/runs/{run_id}``); its tornado pattern is derived
from it, each ``{name}`` a named group matching one path segment unless ``patterns`` widens it.
"""

from __future__ import annotations

import re
from typing import Any

from . import api_jobs, api_lab, api_runs, pages, pages_jobs
from .base import NbprodAPIHandler

_PARAM = re.compile(r"\{(\w+)\}")
_SEGMENT = r"[^/]+"


def api_handlers() -> list[type[NbprodAPIHandler]]:
    """The API handler classes, in matching order."""
    return [
        api_runs.OpenAPIHandler, api_runs.MeHandler, api_runs.RunsHandler,
        api_runs.RunChoicesHandler, api_runs.RunEventsHandler, api_runs.ArtifactHandler,
        api_runs.RunHandler, api_runs.CompareHandler, api_runs.DiffHandler,
        api_runs.SeriesHandler, api_runs.NotebooksHandler, api_runs.ContractHandler,
        api_runs.ChecksHandler,
        api_jobs.JobsHandler, api_jobs.VersionsHandler, api_jobs.StagesHandler,
        api_jobs.VerdictHandler, api_jobs.JobRunsHandler, api_jobs.PromotionsHandler,
        api_jobs.ApprovalsHandler, api_jobs.RollbacksHandler, api_jobs.JobHandler,
        api_jobs.JobRunEventsHandler, api_jobs.JobRunHandler, api_jobs.AuditHandler,
        api_jobs.TasksHandler, api_jobs.TaskEventsHandler, api_jobs.TaskHandler,
        *api_lab.HANDLERS,
    ]


def pattern(handler: type[NbprodAPIHandler]) -> str:
    """The tornado pattern (relative to the server's base URL) of an API handler's path."""
    def group(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"(?P<{name}>{handler.patterns.get(name, _SEGMENT)})"

    return "/nbprod/api" + _PARAM.sub(group, handler.path)


def routes() -> list[tuple[str, Any]]:
    """(pattern, handler) for every route, API first, then pages, then the 404s."""
    table: list[tuple[str, Any]] = [(pattern(h), h) for h in api_handlers()]
    table += pages.routes() + pages_jobs.routes()
    table += [(r"/nbprod/api/.*", pages.APINotFoundHandler),
              (r"/nbprod/.*", pages.PageNotFoundHandler)]
    return table
