"""The endpoints the JupyterLab extension adds (nbprod/server/api_lab.py), against a real
server: the notebook a Lab path names, its lint findings, a form checked field by field with
the CLI's messages, and a sweep with progress. Answers are validated against the OpenAPI
document the server serves.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import run_json
from .conftest import Server
from .test_api import checked

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def openapi(small_server: Server) -> dict[str, Any]:
    """The OpenAPI document the server serves (test_api.py validates it as a spec)."""
    return dict(small_server.get("/nbprod/api/openapi.json", user="carol").json())


def test_a_lab_path_names_the_project_s_notebook(small_server: Server,
                                                 openapi: dict[str, Any]) -> None:
    view = checked(small_server, openapi, "get", "/nbprod/api/lab/notebook?path=ok.ipynb",
                   user="carol", status=200)
    assert view["path"] == "ok.ipynb" and view["problem"] is None
    assert [(p["name"], p["type"], p["default"], p["help"]) for p in view["contract"]] == \
        [("x", "int", 1, "a number"), ("label", "str", "a", "a label")]
    assert len(view["version"]) == 64 and view["test"] is None
    assert view["jobs"] == [{"job": "pair", "step": "ok", "stages": {
        "dev": None, "staging": None, "production": None},
        "stage_order": ["dev", "staging", "production"], "latest_version": None,
        "approvals": {"production": 1}}]
    for bad in ("../x.ipynb", "/etc/passwd.ipynb", "ok.py", "nope.ipynb", "a%5Cb.ipynb"):
        reply = small_server.get(f"/nbprod/api/lab/notebook?path={bad}", user="carol")
        assert reply.status_code == 404, (bad, reply.text)
        assert "\n" not in reply.json()["error"]["message"]


def test_lint_findings_name_their_cell(small_server: Server, openapi: dict[str, Any]) -> None:
    lint = checked(small_server, openapi, "get", "/nbprod/api/notebooks/glue/lint",
                   user="carol", status=200)
    assert lint["path"] == "glue.ipynb" and lint["failed"]  # warnings fail by default
    assert [(f["code"], f["cell"], f["line"]) for f in lint["findings"]] == \
        [("NBP105", 1, 1), ("NBP105", 1, 2)]
    code, cli = run_json(small_server.root, "lint", "glue.ipynb", "--no-record")
    assert code == 1  # as `nbprod lint` says it
    assert [(f["code"], f["cell"], f["message"]) for f in cli] == \
        [(f["code"], f["cell"], f["message"]) for f in lint["findings"]]
    nothing = small_server.get("/nbprod/api/checks?notebook=glue.ipynb&kind=lint", user="carol")
    assert nothing.json() == []  # the sidebar's lint is not recorded


def test_a_form_is_checked_field_by_field_with_the_cli_s_messages(
        small_server: Server, openapi: dict[str, Any]) -> None:
    result = checked(small_server, openapi, "post", "/nbprod/api/notebooks/ok/check",
                     {"parameters": {"x": "abc", "label": "b"}}, user="carol", status=200)
    code, printed = run_json(small_server.root, "run", "ok", "-p", "x", "abc")
    assert code == 2
    assert result["ok"] is False and set(result["errors"]) == {"x"}
    assert result["errors"]["x"] == printed["failure"]["message"].replace(
        "(from -p)", "(from the Run dialog)")
    assert result["values"] == {"label": "b"}
    good = checked(small_server, openapi, "post", "/nbprod/api/notebooks/ok/check",
                   {"parameters": {"x": "7"}}, user="carol", status=200)
    assert good == {"ok": True, "errors": {}, "problem": None, "values": {"x": 7}}
    # What the Lab then sends to start the run: the checked, typed values.
    task = small_server.post("/nbprod/api/runs", {"notebook": "ok.ipynb",
                                                  "parameters": good["values"]}, user="alice")
    assert task.status_code == 202, task.text
    final = small_server.wait_task(task.json())["last"]
    assert final["state"] == "succeeded"
    run = small_server.get(f"/nbprod/api/runs/{final['run_id']}", user="carol").json()
    assert run["parameters"] == {"x": 7} and run["values"]["x2"] == 14
    grid = checked(small_server, openapi, "post", "/nbprod/api/notebooks/ok/check",
                   {"grid": {"x": ["1", "two"], "label": ["p", "q"]}, "form": "sweep"},
                   user="carol", status=200)
    assert grid["errors"] == {
        "x": "parameter 'x' expects int, got 'two' (from the Sweep dialog x)"}
    unknown = checked(small_server, openapi, "post", "/nbprod/api/notebooks/ok/check",
                      {"parameters": {"y": "1"}}, user="carol", status=200)
    assert unknown["errors"]["y"].startswith("unknown parameter 'y' (from the Run dialog)")
    bad_form = small_server.post("/nbprod/api/notebooks/ok/check", {"form": "other"},
                                 user="carol")
    assert bad_form.status_code == 400


def test_a_sweep_checks_every_point_then_runs_them_with_progress(
        small_server: Server, openapi: dict[str, Any]) -> None:
    refused = checked(small_server, openapi, "post", "/nbprod/api/sweeps",
                      {"notebook": "ok", "grid": {"x": ["1", "two"]}}, status=400)
    assert refused["error"]["message"].startswith("sweep point 1 (x=two): parameter 'x' "
                                                  "expects int, got 'two'")
    assert small_server.post("/nbprod/api/sweeps", {"notebook": "ok", "grid": {"x": ["1"]}},
                             user="carol").status_code == 403  # a viewer may not run
    task = checked(small_server, openapi, "post", "/nbprod/api/sweeps",
                   {"notebook": "ok", "grid": {"x": ["1", "2", "3"], "label": ["s"]}},
                   status=202)
    assert task["kind"] == "sweep" and task["user"] == "alice"
    events = small_server.wait_task(task)["all"]
    final = events[-1]
    assert final["state"] == "succeeded", final
    assert final["points_total"] == 3 and final["points_done"] == 3
    done = [e["points_done"] for e in events if "points_done" in e]
    assert done == sorted(done) and done[-1] == 3
    sweep_id = final["result"]["sweep_id"]
    assert final["result"]["counts"] == {"succeeded": 3}
    runs = small_server.get(f"/nbprod/api/runs?sweep={sweep_id}", user="carol").json()["runs"]
    assert sorted(r["parameters"]["x"] for r in runs) == [1, 2, 3]
    assert {r["user"] for r in runs} == {"alice"}  # the authenticated user, in every point
    assert {r["values"]["label"] for r in runs} == {"s"}
