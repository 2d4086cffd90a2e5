"""What every nbprod handler shares: who acts, what they may do, errors, timing, security headers.

Every handler method is stacked the same way (the route test checks it)::

    @web.authenticated          # no user: the login page (pages) or 403 (API)
    @authorized                 # jupyter_server's Authorizer, resource "nbprod"
    @requires("view")           # nbprod's role for the action ([tool.nbprod.roles])
    async def get(self, ...): ...

Handlers parse, call ``nbprod.api`` (on a thread: the event loop never waits for the
registry), render. An error is one clear line: ``NbprodError`` subclasses map to HTTP
statuses (404 not found, 400 invalid input, 403 not allowed, 409 gate failed or conflict,
503 infrastructure); anything else is a 500 that says "internal error" and is logged with its
traceback on the server, never sent to the client.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.extension.handler import ExtensionHandlerJinjaMixin, ExtensionHandlerMixin
from tornado import web

from ..api.access import Permissions
from ..errors import (
    Conflict,
    GateFailed,
    InfraError,
    InvalidInput,
    NbprodError,
    NotAllowed,
    NotebookFailed,
    NotFound,
)
from .identity import RESOURCE, acting_user

if TYPE_CHECKING:
    from .. import api
    from .app import NbprodApp

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

_STATUS: tuple[tuple[type[NbprodError], int], ...] = (
    (NotAllowed, 403), (NotFound, 404), (GateFailed, 409), (Conflict, 409),
    (InvalidInput, 400), (NotebookFailed, 422), (InfraError, 503))

PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'self'")
# The rendered notebook: untrusted. No script, no form, an opaque origin (sandbox), nothing
# fetched but inline styles and data: images.
REPORT_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
              "font-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'")


def requires(action: str, *, audited: bool = False) -> Callable[[F], F]:
    """Refuse (403) unless the acting user's role allows ``action`` (api.access.ACTIONS).

    ``audited``: the use case checks this role itself and writes the refusal to the audit log
    (promote, approve, rollback), so here only ``view`` is required first.
    """
    def decorate(method: F) -> F:
        @functools.wraps(method)
        async def checked(self: NbprodHandler, *args: Any, **kwargs: Any) -> Any:
            self.allowed = self.nbprod.permissions(self.user_name)
            self.allowed.require("view" if audited else action)
            return await method(self, *args, **kwargs)
        checked.__nbprod_action__ = action  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]
    return decorate


def error_status(exc: BaseException | None, status: int) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body for an error (never a traceback)."""
    if isinstance(exc, NbprodError):
        code = next((s for cls, s in _STATUS if isinstance(exc, cls)), 500)
        body: dict[str, Any] = {"type": type(exc).__name__, "message": exc.one_line(),
                                "exit_code": exc.exit_code}
        if isinstance(exc, GateFailed):
            body["gates"] = [r.to_json() for r in exc.results]
        return code, body
    if isinstance(exc, web.HTTPError):
        message = exc.log_message % exc.args if exc.log_message and exc.args else \
            exc.log_message or exc.reason or _REASONS.get(exc.status_code, "error")
        return exc.status_code, {"type": "HTTPError", "message": message}
    if exc is None:
        return status, {"type": "HTTPError", "message": _REASONS.get(status, "error")}
    return 500, {"type": "InternalError",
                 "message": "internal error (a bug in nbprod); the server log has the details"}


def is_local_path(path: str) -> bool:
    """Whether a browser reads ``path`` as a path on this server: no scheme, no host (``//``,
    ``/\\`` and control characters can make it another site's)."""
    return path.startswith("/") and not path.startswith("//") and "\\" not in path and \
        not any(ord(c) < 0x20 or ord(c) == 0x7f for c in path)


_REASONS = {400: "bad request", 403: "forbidden", 404: "not found", 405: "method not allowed",
            500: "internal error"}


class NbprodHandler(ExtensionHandlerMixin, JupyterHandler):
    """Identity, permissions, calling the API on a thread, errors, Server-Timing."""

    auth_resource = RESOURCE
    allowed: Permissions
    _started: float

    @property
    def nbprod(self) -> NbprodApp:
        return self.extensionapp  # type: ignore[return-value]

    @property
    def user_name(self) -> str:
        return acting_user(self, self.current_user)

    def project(self) -> api.Project:
        return self.nbprod.project(self.user_name)

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` on the API thread pool (it may read the registry)."""
        from tornado.ioloop import IOLoop

        return await IOLoop.current().run_in_executor(
            self.nbprod.reads, functools.partial(fn, *args, **kwargs))

    async def prepare(self) -> None:  # type: ignore[override]
        self._started = time.perf_counter()
        await super().prepare()

    def timing(self) -> None:
        if not self._headers_written and hasattr(self, "_started"):
            elapsed = (time.perf_counter() - self._started) * 1000
            self.set_header("Server-Timing", f"app;dur={elapsed:.1f}")

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, NbprodError | web.HTTPError):
            self.log.warning("%s %s: %s", self.request.method, self.request.path,
                             value.one_line() if isinstance(value, NbprodError) else value)
            return
        super().log_exception(typ, value, tb)

    def error(self, exc: BaseException | None, status: int) -> tuple[int, dict[str, Any]]:
        """:func:`error_status`, with jupyter_server's authorization refusal (403 from
        ``@authorized``) said as nbprod says it: who, and what to do."""
        status, body = error_status(exc, status)
        if status == 403 and isinstance(exc, web.HTTPError) and self.current_user and \
                "not authorized" in body["message"]:
            action = "view" if self.request.method in ("GET", "HEAD", "OPTIONS") else "change"
            body = {"type": "NotAllowed", "exit_code": NotAllowed.exit_code,
                    "message": f"{self.user_name} may not {action} in this project; ask an "
                               "admin to add you to [tool.nbprod.roles]"}
        return status, body

    def local_redirect(self, path: str, status: int = 303) -> None:
        """Redirect to a path on this server (never to another site)."""
        if not is_local_path(path):
            raise web.HTTPError(400, "refusing to redirect outside this server")
        self.redirect(path, status=status)

    def url(self, *parts: str) -> str:
        """A path under this extension: ``url("runs", run_id)`` -> ``/nbprod/runs/<id>``."""
        from urllib.parse import quote

        base = self.base_url.rstrip("/")
        return "/".join([base, RESOURCE, *(quote(p, safe="") for p in parts)])


class NbprodAPIHandler(NbprodHandler, APIHandler):
    """A JSON handler under ``/nbprod/api/``; its ``openapi`` documents its methods."""

    path: str = ""
    patterns: dict[str, str] = {}
    openapi: dict[str, dict[str, Any]] = {}

    def send(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.timing()
        self.finish(json.dumps(data, default=str))

    def body(self) -> dict[str, Any]:
        """The request's JSON object body (400 unless it is one)."""
        raw = self.request.body or b"{}"
        try:
            data = json.loads(raw)
        except ValueError:
            raise InvalidInput("the request body is not JSON",
                               hint="send a JSON object with Content-Type: application/json"
                               ) from None
        if not isinstance(data, dict):
            raise InvalidInput("the request body must be a JSON object")
        return data

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        status, body = self.error(kwargs.get("exc_info", (None, None, None))[1], status_code)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": body}))

    @web.authenticated
    @authorized
    @requires("view")
    async def options(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """CORS preflight: answered only for authenticated users (no cross-site use)."""
        self.set_status(204)
        self.finish()


class NbprodPageHandler(ExtensionHandlerJinjaMixin, NbprodHandler):
    """A server-rendered page under ``/nbprod/``."""

    @property
    def content_security_policy(self) -> str:
        return PAGE_CSP

    def page(self, template: str, status: int = 200, **values: Any) -> None:
        """Render ``template`` with the navigation's context and send it."""
        flash = self.get_secure_cookie("nbprod-flash", max_age_days=1)
        if flash:
            self.clear_cookie("nbprod-flash", path=self.url(""))
        context = {"user": self.user_name, "allowed": getattr(self, "allowed", None),
                   "url": self.url, "flash": json.loads(flash) if flash else None,
                   "active": values.pop("active", "")}
        self.set_status(status)
        self.timing()
        self.finish(self.render_template(template, **context, **values))

    def flash(self, kind: str, message: str) -> None:
        """A message for the next page this browser opens (signed, one-time)."""
        self.set_secure_cookie("nbprod-flash", json.dumps({"kind": kind, "message": message}),
                               expires_days=None, path=self.url(""), httponly=True,
                               samesite="Strict")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        status, body = self.error(kwargs.get("exc_info", (None, None, None))[1], status_code)
        self.set_status(status)
        user = self.user_name if self.current_user else None
        html = self.render_template("error.html", status=status, error=body, user=user,
                                    allowed=None, url=self.url, flash=None, active="")
        self.finish(html)

