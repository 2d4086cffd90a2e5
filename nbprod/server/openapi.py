"""The OpenAPI 3.1 document of ``/nbprod/api/``, assembled from the handlers themselves.

Each API handler declares its path (``/runs/{run_id}``) and an operation per method it
implements (``op(...)`` below); :func:`document` collects them and the shared schemas, so
the document cannot name a route that does not exist. tests/server/test_openapi.py checks the
other direction (every route is documented) and validates real responses against it.
"""

from __future__ import annotations

from typing import Any

from ..about import __version__

_OBJ: dict[str, Any] = {"type": "object"}
_STR: dict[str, Any] = {"type": "string"}
_NSTR: dict[str, Any] = {"type": ["string", "null"]}


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["type", "message"],
        "properties": {"type": _STR, "message": _STR, "exit_code": {"type": "integer"},
                       "gates": array(ref("GateResult"))}}}},
    "Failure": {"type": ["object", "null"], "required": ["kind", "message"],
                "properties": {"kind": _STR, "message": _STR,
                               "cell_index": {"type": ["integer", "null"]},
                               "ename": _NSTR, "evalue": _NSTR}},
    "RunSummary": {"type": "object",
                   "required": ["run_id", "notebook", "state", "parameters", "values",
                                "started_at", "duration", "user"],
                   "properties": {"run_id": _STR, "notebook": _STR, "state": {
                       "enum": ["running", "succeeded", "failed", "lost"]},
                       "failure": ref("Failure"), "parameters": _OBJ, "values": _OBJ,
                       "started_at": _STR, "ended_at": _NSTR,
                       "duration": {"type": ["number", "null"]}, "user": _NSTR,
                       "job_run_id": _NSTR, "step": _NSTR, "sweep_id": _NSTR}},
    "RunPage": {"type": "object", "required": ["runs", "older", "newer", "limit"],
                "properties": {"runs": array(ref("RunSummary")), "older": _NSTR,
                               "newer": _NSTR, "limit": {"type": "integer"}}},
    "Artifact": {"type": "object", "required": ["name", "sha256", "size"],
                 "properties": {"name": _STR, "path": _STR, "sha256": _STR,
                                "size": {"type": "integer"}}},
    "RunRecord": {"type": "object",
                  "required": ["run_id", "notebook", "state", "parameters", "values",
                               "artifacts", "lineage", "checks"],
                  "properties": {"run_id": _STR, "notebook": _STR, "state": _STR,
                                 "failure": ref("Failure"), "parameters": _OBJ,
                                 "values": _OBJ, "artifacts": array(ref("Artifact")),
                                 "lineage": _OBJ, "checks": array(ref("Check")),
                                 "failing_cell": {"type": ["object", "null"]}}},
    "Check": {"type": "object", "required": ["kind", "notebook", "notebook_version", "passed"],
              "properties": {"kind": {"enum": ["lint", "test"]}, "notebook": _STR,
                             "notebook_version": _STR, "passed": {"type": "boolean"},
                             "summary": _STR, "created_at": _STR}},
    "Comparison": {"type": "object", "required": ["runs", "identical", "rows"],
                   "properties": {"runs": array(_STR), "identical": {"type": "boolean"},
                                  "rows": array({"type": "object",
                                                 "required": ["section", "name", "values",
                                                              "differs"]})}},
    "Diff": {"type": "object", "required": ["left", "right", "identical", "changes"]},
    "SeriesPoint": {"type": "object", "required": ["run_id", "state", "value"],
                    "properties": {"run_id": _STR, "state": _STR, "value": {"type": "number"},
                                   "parameters": _OBJ}},
    "Notebook": {"type": "object", "required": ["name", "path", "contract", "problem"],
                 "properties": {"name": _STR, "path": _STR, "contract": array(_OBJ),
                                "problem": _NSTR}},
    "Permissions": {"type": "object",
                    "required": ["user", "view", "run", "approve", "admin", "promote"]},
    "GateResult": {"type": "object", "required": ["gate", "passed", "detail"],
                   "properties": {"gate": _STR, "passed": {"type": "boolean"},
                                  "detail": _STR}},
    "Verdict": {"type": "object", "required": ["job", "version", "stage", "passed", "gates"],
                "properties": {"passed": {"type": "boolean"},
                               "gates": array(ref("GateResult"))}},
    "JobSummary": {"type": "object", "required": ["name", "steps", "stages", "problem"]},
    "JobOverview": {"type": "object",
                    "required": ["job", "stages", "versions", "runs", "audit"]},
    "JobVersion": {"type": "object", "required": ["job", "version", "digest", "built_by"]},
    "Stage": {"type": "object", "required": ["stage", "pointer", "history", "rollback_to"]},
    "StagePointer": {"type": "object", "required": ["job", "stage", "version", "revision"]},
    "JobRun": {"type": "object", "required": ["job_run_id", "job", "state", "steps"]},
    "AuditEntry": {"type": "object", "required": ["at", "user", "action", "outcome", "job"]},
    "Promotion": {"type": "object", "required": ["job", "version", "stage", "passed", "moved"]},
    "Task": {"type": "object",
             "required": ["task_id", "kind", "state", "run_id", "job_run_id", "cell", "cells",
                          "elapsed", "final"],
             "properties": {"task_id": _STR, "kind": {"enum": ["run", "job_run", "sweep"]},
                            "state": {"enum": ["queued", "running", "succeeded", "failed",
                                               "error"]},
                            "run_id": _NSTR, "job_run_id": _NSTR,
                            "cell": {"type": ["integer", "null"]},
                            "cells": {"type": ["integer", "null"]}, "label": _NSTR,
                            "elapsed": {"type": "number"}, "final": {"type": "boolean"},
                            "error": {"type": ["object", "null"]}}},
    "Progress": {"type": "object", "required": ["state", "elapsed", "final"],
                 "description": "One server-sent event (`data:` line, JSON): a Task while "
                                "this server runs it, else the registry's state."},
}

_ERRORS = {"400": "bad input (the message says what and where)",
           "403": "not authenticated, or the role does not allow it",
           "404": "no such run, job, version or notebook"}


def query(name: str, description: str, schema: dict[str, Any] | None = None,
          required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or _STR}


def op(summary: str, response: dict[str, Any] | None = None, *, status: int = 200,
       params: list[dict[str, Any]] | None = None, body: dict[str, Any] | None = None,
       content_type: str = "application/json", errors: tuple[str, ...] = ()) -> dict[str, Any]:
    """One operation: its summary, query parameters, JSON body and main response."""
    responses: dict[str, Any] = {str(status): {"description": summary, "content": {
        content_type: {"schema": response or _OBJ}}}}
    for code in ("400", "403", "404", *errors):
        text = _ERRORS.get(code, {"409": "refused by a gate, or a conflicting change",
                                  "503": "registry or store unavailable"}.get(code, "error"))
        responses[code] = {"description": text,
                           "content": {"application/json": {"schema": ref("Error")}}}
    operation: dict[str, Any] = {"summary": summary, "responses": responses,
                                 "parameters": params or []}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": body}}}
    return operation


def document(handlers: list[Any], base: str = "/nbprod/api") -> dict[str, Any]:
    """The OpenAPI document for ``handlers`` (API handler classes with ``path``/``openapi``)."""
    paths: dict[str, Any] = {}
    for handler in handlers:
        item: dict[str, Any] = {}
        names = [p.strip("{}") for p in handler.path.split("/") if p.startswith("{")]
        if names:
            item["parameters"] = [{"name": n, "in": "path", "required": True, "schema": _STR}
                                  for n in names]
        for method, operation in handler.openapi.items():
            item[method] = operation
        paths[base + handler.path] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "nbprod", "version": __version__,
                 "description": "Runs, jobs, stages, gates, approvals and the audit of an "
                                "nbprod project. Authenticate as for any Jupyter server: "
                                "`Authorization: token <token>`, or the login cookie plus "
                                "the `_xsrf` cookie's value in an `X-XSRFToken` header on "
                                "POST. Long actions answer 202 with a Task; follow it at "
                                "`/tasks/{task_id}/events` (server-sent events)."},
        "servers": [{"url": "/"}],
        "security": [{"token": []}, {"cookie": []}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "Authorization",
                          "description": "`token <token>`"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "username-<host>",
                           "description": "the login cookie, with X-XSRFToken on POST"}}},
        "paths": paths,
    }
