"""The REST API against a real server: runs and cursor paging, one run and its files, compare,
diff, value series, notebooks and contracts, checks, starting runs and job runs with progress
streamed, and the promotion flow. Every JSON answer is validated against the OpenAPI document
the server serves, and every API route is in that document.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_spec

from nbprod.records import Lineage, RunnerIdentity, RunRecord, new_run_id
from nbprod.registry import Registry

from ..conftest import run_json
from .conftest import Server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def document(small_server: Server) -> dict[str, Any]:
    doc = small_server.get("/nbprod/api/openapi.json", user="carol").json()
    validate_spec(doc)
    return doc


def _inline(schema: Any, doc: dict[str, Any]) -> Any:
    """``schema`` with every ``$ref`` replaced by the component it names."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]], doc)
        return {k: _inline(v, doc) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_inline(v, doc) for v in schema]
    return schema


def checked(server: Server, doc: dict[str, Any], method: str, path: str,
            body: Any = None, user: str = "alice", status: int | None = None) -> Any:
    """Call the API and validate the answer against the document's schema for it."""
    reply = server.post(path, body, user=user) if method == "post" else \
        server.get(path, user=user)
    if status is not None:
        assert reply.status_code == status, reply.text
    bare = path.split("?")[0][len("/nbprod/api"):]
    template = next(t for t in doc["paths"] if re.fullmatch(
        re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(t[len("/nbprod/api"):])), bare))
    responses = doc["paths"][template][method]["responses"]
    assert str(reply.status_code) in responses, (path, reply.status_code, reply.text)
    content = responses[str(reply.status_code)]["content"]
    data = reply.json()
    jsonschema.validate(data, _inline(content["application/json"]["schema"], doc))
    return data


def test_every_api_route_is_documented(small_server: Server, document: dict[str, Any]) -> None:
    from nbprod.server.routes import api_handlers, pattern

    documented = set(document["paths"])
    for handler in api_handlers():
        assert "/nbprod/api" + handler.path in documented, handler.path
        assert pattern(handler).startswith("/nbprod/api/")
        for method in ("get", "post", "put", "patch", "delete"):
            assert (method in vars(handler)) == (method in handler.openapi), (handler.path,
                                                                              method)
    assert len(documented) == len(api_handlers())


def _seed(root: Path, count: int) -> list[str]:
    """``count`` finished runs of seeded.ipynb straight into the registry, oldest first."""
    registry = Registry.open(f"sqlite:///{root / '.nbprod' / 'registry.db'}")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ids = []
    try:
        for i in range(count):
            when = start + dt.timedelta(minutes=i)
            record = RunRecord(run_id=new_run_id(when), notebook="seeded.ipynb",
                               notebook_version="v" * 64, state="running", started_at=when,
                               parameters={"alpha": i / 10},
                               lineage=Lineage(user="seeder" if i % 2 else "other"))
            registry.create_run(record, runner=RunnerIdentity("elsewhere", 1, None))
            registry.finish_run(record.run_id, state="failed" if i % 10 == 3 else "succeeded",
                                failure=None, values={"score": i * 1.5}, artifacts=[],
                                ended_at=when + dt.timedelta(seconds=3))
            ids.append(record.run_id)
    finally:
        registry.close()
    return ids


def test_runs_page_by_page_with_a_cursor(small_server: Server, document: dict[str, Any]) -> None:
    ids = _seed(small_server.root, 120)
    newest_first = list(reversed(ids))
    seen: list[str] = []
    path = "/nbprod/api/runs?notebook=seeded.ipynb&limit=50"
    pages = []
    while True:
        page = checked(small_server, document, "get", path, user="carol", status=200)
        pages.append(page)
        seen += [r["run_id"] for r in page["runs"]]
        if not page["older"]:
            break
        path = f"/nbprod/api/runs?notebook=seeded.ipynb&limit=50&before={page['older']}"
    assert seen == newest_first
    assert [len(p["runs"]) for p in pages] == [50, 50, 20]
    assert pages[0]["newer"] is None and pages[1]["newer"] == newest_first[50]
    back = checked(small_server, document, "get",
                   f"/nbprod/api/runs?notebook=seeded.ipynb&limit=50&after={pages[1]['newer']}",
                   user="carol", status=200)
    assert [r["run_id"] for r in back["runs"]] == newest_first[:50]
    failed = small_server.get("/nbprod/api/runs?notebook=seeded.ipynb&state=failed&limit=200",
                              user="carol").json()["runs"]
    assert len(failed) == 12 and all(r["state"] == "failed" for r in failed)
    mine = small_server.get("/nbprod/api/runs?notebook=seeded.ipynb&user=seeder&limit=200",
                            user="carol").json()["runs"]
    assert len(mine) == 60 and {r["user"] for r in mine} == {"seeder"}
    choices = small_server.get("/nbprod/api/run-choices", user="carol").json()
    assert "seeded.ipynb" in choices["notebooks"] and {"seeder", "other"} <= set(
        choices["users"])
    series = checked(small_server, document, "get",
                     "/nbprod/api/series?notebook=seeded.ipynb&value=score&limit=30",
                     user="carol", status=200)
    assert [p["value"] for p in series] == [i * 1.5 for i in range(90, 120)]


def test_a_run_started_by_the_api_streams_its_progress(small_server: Server,
                                                       document: dict[str, Any]) -> None:
    task = checked(small_server, document, "post", "/nbprod/api/runs",
                   {"notebook": "slow", "parameters": {"delay": 0.5, "steps": 4}},
                   status=202)
    assert task["state"] in ("queued", "running") and task["user"] == "alice"
    events = small_server.wait_task(task)["all"]
    final = events[-1]
    assert final["state"] == "succeeded" and final["run_id"]
    cells = [e["cell"] for e in events if e.get("cell")]
    assert cells == sorted(cells) and len(set(cells)) >= 4, events
    assert {e["cells"] for e in events if e.get("cells")} == {11}  # 10 and the injected one
    elapsed = [e["elapsed"] for e in events]
    assert elapsed == sorted(elapsed) and elapsed[-1] >= 2.0
    run = checked(small_server, document, "get", f"/nbprod/api/runs/{final['run_id']}",
                  user="carol", status=200)
    assert run["parameters"] == {"delay": 0.5, "steps": 4}
    assert run["values"] == {"steps_done": 4}
    assert run["lineage"]["user"] == "alice"
    registry_view = list(small_server.events(f"/nbprod/api/runs/{final['run_id']}/events"))
    assert registry_view[-1]["final"] and registry_view[-1]["state"] == "succeeded"


def test_bad_parameters_are_refused_with_the_cli_s_message(small_server: Server,
                                                          document: dict[str, Any]) -> None:
    cases = [({"x": "abc"}, ["-p", "x", "abc"]), ({"y": 1}, ["-p", "y", "1"])]
    for parameters, cli_args in cases:
        refused = checked(small_server, document, "post", "/nbprod/api/runs",
                          {"notebook": "ok", "parameters": parameters}, status=400)
        code, printed = run_json(small_server.root, "run", "ok", *cli_args)
        assert code == 2
        cli_message = printed["failure"]["message"]
        assert refused["error"]["type"] == "ParameterError"
        assert refused["error"]["message"] == cli_message.replace("(from -p)",
                                                                  "(from the API request)")
    missing = small_server.post("/nbprod/api/runs", {"notebook": "nope"}, user="alice")
    assert missing.status_code == 404
    outside = small_server.post("/nbprod/api/runs", {"notebook": "/etc/x.ipynb"}, user="alice")
    assert outside.status_code == 404 and "in this project" in outside.json()["error"][
        "message"]


def test_one_run_its_files_diff_compare_and_checks(small_server: Server,
                                                   document: dict[str, Any]) -> None:
    ids = []
    for x in (2, 5):
        task = small_server.post("/nbprod/api/runs",
                                 {"notebook": "ok", "parameters": {"x": x}}, user="alice").json()
        ids.append(small_server.wait_task(task)["last"]["run_id"])
    run = checked(small_server, document, "get", f"/nbprod/api/runs/{ids[0]}", status=200)
    names = {a["name"] for a in run["artifacts"]}
    assert {"notebook.ipynb", "report.html", "record.json", "files/out.txt"} <= names
    report = small_server.get(f"/nbprod/api/runs/{ids[0]}/artifacts/report.html", user="carol")
    assert report.status_code == 200 and b'id="nbprod-run"' in report.content
    assert report.headers["Content-Type"] == "application/octet-stream"
    diff = checked(small_server, document, "get",
                   f"/nbprod/api/diff?left={ids[0]}&right={ids[1]}", status=200)
    assert {(c["section"], c["name"]) for c in diff["changes"]} >= {("parameters", "x"),
                                                                    ("values", "x2")}
    compared = checked(small_server, document, "get",
                       f"/nbprod/api/compare?run={ids[0]}&run={ids[1]}&only=differences",
                       status=200)
    assert {(r["section"], r["name"]) for r in compared["rows"]} == {
        ("parameters", "x"), ("values", "x2")}
    assert all(r["differs"] for r in compared["rows"])
    everything = small_server.get(f"/nbprod/api/compare?run={ids[0]}&run={ids[1]}",
                                  user="carol").json()
    assert ("run", "kernel") in {(r["section"], r["name"]) for r in everything["rows"]}
    notebooks = checked(small_server, document, "get", "/nbprod/api/notebooks", status=200)
    assert {"ok", "raises", "slow", "xss"} <= {n["name"] for n in notebooks}
    contract = checked(small_server, document, "get", "/nbprod/api/notebooks/ok/contract",
                       status=200)
    assert [(p["name"], p["type"], p["default"]) for p in contract["contract"]] == [
        ("x", "int", 1), ("label", "str", "a")]
    code, _ = run_json(small_server.root, "lint", "ok.ipynb")
    checks = checked(small_server, document, "get", "/nbprod/api/checks?notebook=ok&kind=lint",
                     status=200)
    assert checks and checks[0]["kind"] == "lint" and checks[0]["passed"] == (code == 0)


def test_a_failed_run_names_its_failing_cell(small_server: Server,
                                             document: dict[str, Any]) -> None:
    task = small_server.post("/nbprod/api/runs", {"notebook": "raises"}, user="alice").json()
    final = small_server.wait_task(task)["last"]
    assert final["state"] == "failed"
    run = checked(small_server, document, "get", f"/nbprod/api/runs/{final['run_id']}",
                  status=200)
    assert run["failure"]["kind"] == "cell_error" and run["failure"]["ename"] == "ValueError"
    cell = run["failing_cell"]
    assert cell["source"] == "raise ValueError(f'bad input {x}')"
    assert cell["ename"] == "ValueError" and "bad input 1" in cell["traceback"]
    assert "\x1b[" not in cell["traceback"]


def test_build_run_promote_approve_rollback(small_server: Server,
                                            document: dict[str, Any]) -> None:
    built = checked(small_server, document, "post", "/nbprod/api/jobs/pair/versions", {})
    version = built["version"]
    assert built["built_by"] == "alice"
    refused = checked(small_server, document, "post", "/nbprod/api/jobs/pair/promotions",
                      {"version": version, "stage": "staging"}, status=409)
    assert [g["gate"] for g in refused["error"]["gates"]] == ["succeeded_run"]
    task = checked(small_server, document, "post", "/nbprod/api/jobs/pair/runs",
                   {"version": version, "test": False}, status=202)
    events = small_server.wait_task(task)["all"]
    assert events[-1]["state"] == "succeeded" and events[-1]["job_run_id"]
    assert max(e["steps_done"] for e in events) == 2 and events[-1]["steps_total"] == 2
    # every event names the step under way (or the last one), from the first on
    counted = [e for e in events if e.get("steps_total")]
    assert counted and all(e["step"] == ["ok", "glue"][min(e["steps_done"], 1)]
                           for e in counted), [(e["steps_done"], e["step"]) for e in counted]
    job_run = checked(small_server, document, "get",
                      f"/nbprod/api/job-runs/{events[-1]['job_run_id']}", status=200)
    assert [s["state"] for s in job_run["steps"]] == ["succeeded", "succeeded"]
    verdict = checked(small_server, document, "get",
                      f"/nbprod/api/jobs/pair/verdict?version={version}&stage=staging",
                      user="carol", status=200)
    assert verdict["passed"] is True
    for stage in ("dev", "staging"):
        moved = checked(small_server, document, "post", "/nbprod/api/jobs/pair/promotions",
                        {"version": version, "stage": stage, "reason": "ready"}, status=200)
        assert moved["moved"] is True and moved["pointer"]["moved_by"] == "alice"
    own = checked(small_server, document, "post", "/nbprod/api/jobs/pair/approvals",
                  {"version": version, "stage": "production"}, status=403)
    assert own["error"]["message"].startswith(f"alice built version {version} of pair and "
                                              "cannot approve it")
    approved = checked(small_server, document, "post", "/nbprod/api/jobs/pair/approvals",
                       {"version": version, "stage": "production", "comment": "looks good"},
                       user="bob", status=201)
    assert [a["approver"] for a in approved["approvals"]] == ["bob"]
    checked(small_server, document, "post", "/nbprod/api/jobs/pair/promotions",
            {"version": version, "stage": "production"}, status=200)
    overview = checked(small_server, document, "get", "/nbprod/api/jobs/pair", user="carol",
                       status=200)
    pointers = {s["stage"]: (s["pointer"] or {}).get("version") for s in overview["stages"]}
    assert pointers == {"dev": version, "staging": version, "production": version}
    audit = checked(small_server, document, "get", "/nbprod/api/audit?job=pair", user="carol",
                    status=200)
    actions = [(e["user"], e["action"], e["outcome"]) for e in audit]
    assert ("alice", "approve", "not_allowed") in actions and ("bob", "approve", "ok") in actions
    no_earlier = checked(small_server, document, "post", "/nbprod/api/jobs/pair/rollbacks",
                         {"stage": "staging", "reason": "test"}, status=404)
    assert "nothing to roll back to" in no_earlier["error"]["message"]
    for path in ("/nbprod/api/jobs", "/nbprod/api/jobs/pair/versions",
                 "/nbprod/api/jobs/pair/stages", "/nbprod/api/jobs/pair/runs",
                 "/nbprod/api/tasks", f"/nbprod/api/tasks/{task['task_id']}", "/nbprod/api/me"):
        checked(small_server, document, "get", path, user="carol", status=200)


def test_a_job_run_with_a_bad_parameter_is_refused_before_it_runs(small_server: Server) -> None:
    before = small_server.get("/nbprod/api/jobs/pair/runs", user="carol").json()
    refused = small_server.post("/nbprod/api/jobs/pair/runs",
                                {"parameters": {"ok": {"x": "many"}}}, user="alice")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == \
        "parameter 'x' expects int, got 'many' (from the API request)"
    unknown_step = small_server.post("/nbprod/api/jobs/pair/runs",
                                     {"parameters": {"train": {"x": 1}}}, user="alice")
    assert unknown_step.status_code == 400
    assert "the job has no step 'train'" in unknown_step.json()["error"]["message"]
    assert small_server.get("/nbprod/api/jobs/pair/runs", user="carol").json() == before


def test_record_json_matches_the_api(small_server: Server) -> None:
    """The API's run is the stored record (plus checks and the failing cell)."""
    page = small_server.get("/nbprod/api/runs?notebook=ok&state=succeeded&limit=1",
                            user="carol").json()
    run_id = page["runs"][0]["run_id"]
    run = small_server.get(f"/nbprod/api/runs/{run_id}", user="carol").json()
    stored = json.loads(small_server.get(f"/nbprod/api/runs/{run_id}/artifacts/record.json",
                                         user="carol").content)
    for key in ("run_id", "notebook_version", "parameters", "values", "state"):
        assert run[key] == stored[key]
