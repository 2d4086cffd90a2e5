"""The server's security, tested against the real app and a real server process.

- every route the app serves under /nbprod is enumerated from tornado's own route table, and
  every method it implements must carry an authentication and an authorization decision
  (``@authenticated``, jupyter_server's ``@authorized`` with resource ``nbprod``, nbprod's
  ``@requires(role)``) and must refuse a request without credentials;
- every path of the OpenAPI document refuses a request without credentials;
- a cookie-authenticated POST needs the XSRF token; a token-authenticated one does not;
- errors are one line of JSON (or a page), never a traceback; redirects stay on the server;
- the acting user is the authenticated one, whatever the request says; roles are enforced.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from jupyter_server.auth.decorator import authorized
from tornado import web

from .conftest import Server, server_env, small_project, user_tokens, write_settings

pytestmark = pytest.mark.slow

_METHODS = ("get", "head", "post", "put", "patch", "delete", "options")
_AUTHORIZED = authorized(lambda self: None).__code__
_AUTHENTICATED = web.authenticated(lambda self: None).__code__
_SAMPLES = {"run_id": "20260101-000000-000-abcdef", "name": "ok", "job": "pair",
            "job_run_id": "20260101-000000-000-abcdef", "task_id": "t1-abc",
            "action": "promote"}


def _routes(root: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """(pattern, handler class) of every route the initialized app serves."""
    from jupyter_server.serverapp import ServerApp

    for name, value in server_env(tmp).items():
        if name.startswith("JUPYTER_"):
            monkeypatch.setenv(name, value)
    serverapp = ServerApp(jpserver_extensions={"nbprod.server": True})
    serverapp.initialize(argv=[f"--ServerApp.root_dir={root}",
                               "--ServerApp.allow_unauthenticated_access=False"],
                         find_extensions=False, new_httpserver=False)
    try:
        found: list[tuple[str, Any]] = []
        pending = [serverapp.web_app.default_router, serverapp.web_app.wildcard_router]
        while pending:
            router = pending.pop()
            for rule in router.rules:
                if hasattr(rule.target, "rules"):
                    pending.append(rule.target)
                elif hasattr(rule.matcher, "regex"):
                    found.append((rule.matcher.regex.pattern, rule.target))
        return found
    finally:
        point = serverapp.extension_manager.extension_points.get("nbprod")
        if point is not None:
            point.app.state.close()
        ServerApp.clear_instance()


def _implemented(handler: type[web.RequestHandler]) -> list[str]:
    return [m for m in _METHODS
            if getattr(handler, m) is not getattr(web.RequestHandler, m)]


def _decisions(method: Any) -> tuple[bool, bool, str | None]:
    """(authenticated, authorized, nbprod role) found in a method's decorator chain."""
    authn = authz = False
    role = None
    while method is not None:
        code = getattr(method, "__code__", None)
        authn = authn or code is _AUTHENTICATED
        authz = authz or code is _AUTHORIZED
        role = role or getattr(method, "__nbprod_action__", None)
        method = getattr(method, "__wrapped__", None)
    return authn, authz, role


def _example(pattern: str) -> str:
    path = pattern.rstrip("$")
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: _SAMPLES.get(m.group(1), "x"), path)
    return path.replace("/?", "/").replace(".*", "nothing-here")


@pytest.fixture(scope="module")
def nbprod_routes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Any]]:
    tmp = tmp_path_factory.mktemp("routes")
    root = small_project(tmp / "proj")
    write_settings(root, 'notebook_dir = "."\n', user_tokens())
    with pytest.MonkeyPatch.context() as monkeypatch:
        routes = _routes(root, tmp, monkeypatch)
    return [(p, h) for p, h in routes if p.startswith("/nbprod")]


def test_the_app_serves_the_api_and_the_pages(nbprod_routes: list[tuple[str, Any]]) -> None:
    patterns = [p for p, _ in nbprod_routes]
    assert any(p.startswith("/nbprod/api/runs") for p in patterns)
    assert any(p.startswith("/nbprod/jobs") for p in patterns)
    assert len(nbprod_routes) > 30


def test_every_method_of_every_route_has_an_authorization_decision(
        nbprod_routes: list[tuple[str, Any]]) -> None:
    problems = []
    for pattern, handler in nbprod_routes:
        if getattr(handler, "auth_resource", None) != "nbprod":
            problems.append(f"{pattern}: auth_resource is not 'nbprod'")
        methods = _implemented(handler)
        if not methods:
            problems.append(f"{pattern}: implements no method")
        for name in methods:
            authn, authz, role = _decisions(getattr(handler, name))
            if not (authn and authz and role):
                problems.append(f"{pattern} {name.upper()}: authenticated={authn} "
                                f"authorized={authz} role={role}")
    assert not problems, "\n".join(problems)


def test_every_route_refuses_a_request_without_credentials(
        nbprod_routes: list[tuple[str, Any]], small_server: Server) -> None:
    anonymous = requests.Session()
    answered = []
    for pattern, handler in nbprod_routes:
        path = _example(pattern)
        for method in _implemented(handler):
            for headers in ({}, {"Authorization": "token not-a-token"}):
                reply = anonymous.request(method.upper(), small_server.url(path),
                                          headers=headers, allow_redirects=False, timeout=30)
                refused = reply.status_code in (401, 403) or (
                    reply.status_code == 302 and
                    reply.headers["Location"].startswith("/login?next="))
                if not refused or "Traceback" in reply.text:
                    answered.append(f"{method.upper()} {path}: {reply.status_code}")
    assert not answered, "answered without credentials:\n" + "\n".join(answered)


def test_every_openapi_path_answers_401_or_403_without_credentials(
        small_server: Server) -> None:
    document = small_server.get("/nbprod/api/openapi.json", user="carol").json()
    assert len(document["paths"]) >= 25
    anonymous = requests.Session()
    for path, item in document["paths"].items():
        concrete = re.sub(r"\{(\w+)\}", lambda m: _SAMPLES.get(m.group(1), "x"), path)
        for method in (m for m in item if m in _METHODS):
            reply = anonymous.request(method.upper(), small_server.url(concrete), json={},
                                      allow_redirects=False, timeout=30)
            assert reply.status_code in (401, 403), (method, path, reply.status_code)
            assert reply.json()["error"]["message"]
            assert "Traceback" not in reply.text


def _login(server: Server, user: str) -> requests.Session:
    """A browser-like session: the login form with the user's token, then cookies only."""
    session = requests.Session()
    session.get(server.url("/login"), timeout=30)
    reply = session.post(server.url("/login"), timeout=30, allow_redirects=False, data={
        "password": server.tokens[user], "_xsrf": session.cookies["_xsrf"]})
    assert reply.status_code == 302, reply.text
    return session


def test_cookie_posts_need_the_xsrf_token_and_token_posts_do_not(small_server: Server) -> None:
    session = _login(small_server, "alice")
    url = small_server.url("/nbprod/api/runs")
    assert session.get(url, timeout=30).status_code == 200  # the cookie authenticates
    body = {"notebook": "ok", "parameters": {"x": 2}}
    refused = session.post(url, json=body, timeout=30)
    assert refused.status_code == 403
    assert "Traceback" not in refused.text
    page_form = session.post(small_server.url("/nbprod/notebooks/ok"), data={"p:x": "2"},
                             timeout=30, allow_redirects=False)
    assert page_form.status_code == 403
    accepted = session.post(url, json=body, timeout=30,
                            headers={"X-XSRFToken": session.cookies["_xsrf"]})
    assert accepted.status_code == 202, accepted.text
    by_token = small_server.post("/nbprod/api/runs", body, user="alice")
    assert by_token.status_code == 202, by_token.text
    for task in (accepted.json(), by_token.json()):
        assert small_server.wait_task(task)["last"]["state"] == "succeeded"


def test_errors_are_one_line_never_a_traceback(small_server: Server) -> None:
    cases = [("/nbprod/api/runs/no-such-run", 404, "no run matches 'no-such-run'"),
             ("/nbprod/api/runs?limit=5000", 400, "limit must be between 1 and 200"),
             ("/nbprod/api/runs?state=sleeping", 400, "no run state 'sleeping'"),
             ("/nbprod/api/nothing/here", 404, "no API route"),
             ("/nbprod/api/jobs/nojob", 404, "no job 'nojob'"),
             ("/nbprod/api/notebooks/..%2F..%2Fetc/contract", 404, "no notebook")]
    for path, status, message in cases:
        reply = small_server.get(path, user="carol")
        assert reply.status_code == status, (path, reply.text)
        error = reply.json()["error"]
        assert message in error["message"], (path, error)
        assert "Traceback" not in reply.text and 'File "' not in reply.text
    page = small_server.get("/nbprod/runs/no-such-run", user="carol")
    assert page.status_code == 404
    assert "no run matches" in page.text and "Traceback" not in page.text
    bad_json = small_server.session("alice").post(small_server.url("/nbprod/api/runs"),
                                                  data=b"{not json", timeout=30)
    assert bad_json.status_code == 400
    assert bad_json.json()["error"]["message"].startswith("the request body is not JSON")


def test_a_corrupt_artifact_is_refused_not_served(small_server: Server) -> None:
    task = small_server.post("/nbprod/api/runs", {"notebook": "ok"}, user="alice").json()
    run_id = small_server.wait_task(task)["last"]["run_id"]
    stored = small_server.root / ".nbprod" / "artifacts" / "runs" / run_id / "files" / "out.txt"
    good = small_server.get(f"/nbprod/api/runs/{run_id}/artifacts/files/out.txt", user="carol")
    assert good.status_code == 200 and good.content == stored.read_bytes()
    assert good.headers["Content-Disposition"] == 'attachment; filename="out.txt"'
    stored.chmod(0o644)
    stored.write_text("tampered")
    bad = small_server.get(f"/nbprod/api/runs/{run_id}/artifacts/files/out.txt", user="carol")
    assert bad.status_code == 503
    assert bad.json()["error"]["type"] == "IntegrityError"
    assert b"tampered" not in bad.content
    escape = small_server.get(f"/nbprod/api/runs/{run_id}/artifacts/..%2F..%2Fregistry.db",
                              user="carol")
    assert escape.status_code == 404


def test_redirects_stay_on_this_server(small_server: Server) -> None:
    session = _login(small_server, "alice")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        reply = session.get(small_server.url("/login"), params={"next": target},
                            allow_redirects=False, timeout=30)
        location = reply.headers.get("Location", "")
        assert reply.status_code == 302, (target, reply.status_code)
        # A path on this server: no scheme, no host, nothing a browser reads as one.
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location
        assert urlsplit(location).netloc == "" and urlsplit(location).scheme == ""
    form = session.post(small_server.url("/nbprod/jobs/pair/build"), allow_redirects=False,
                        data={"_xsrf": session.cookies["_xsrf"]}, timeout=60)
    assert form.status_code == 303
    assert form.headers["Location"] == "/nbprod/jobs/pair"


def test_the_acting_user_is_the_authenticated_one(small_server: Server) -> None:
    reply = small_server.session("alice").post(
        small_server.url("/nbprod/api/runs?user=bob"),
        json={"notebook": "ok", "user": "bob", "parameters": {}}, timeout=30,
        headers={"X-Nbprod-User": "bob", "X-Forwarded-User": "bob", "Remote-User": "bob"})
    assert reply.status_code == 202, reply.text
    assert reply.json()["user"] == "alice"
    run_id = small_server.wait_task(reply.json())["last"]["run_id"]
    record = small_server.get(f"/nbprod/api/runs/{run_id}", user="carol").json()
    assert record["lineage"]["user"] == "alice"
    assert small_server.get("/nbprod/api/me", user="carol").json()["user"] == "carol"
    owner = small_server.get("/nbprod/api/me")  # the server's own token: its OS user,
    assert owner.status_code == 403  # who has no role in this project
    assert owner.json()["error"]["message"].endswith("may not view in this project; ask an "
                                                     "admin to add you to [tool.nbprod.roles]")


def test_roles_are_enforced_and_refusals_audited(small_server: Server) -> None:
    assert small_server.get("/nbprod/api/runs", user="carol").status_code == 200
    for path, body in (("/nbprod/api/runs", {"notebook": "ok"}),
                       ("/nbprod/api/jobs/pair/versions", {}),
                       ("/nbprod/api/jobs/pair/runs", {})):
        refused = small_server.post(path, body, user="carol")
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["error"]["message"] == \
            "carol may not run in this project; ask an admin to add you to [tool.nbprod.roles]"
    assert small_server.post("/nbprod/api/runs", {"notebook": "ok"}, user="bob").status_code \
        == 403
    built = small_server.post("/nbprod/api/jobs/pair/versions", {}, user="alice")
    assert built.status_code in (200, 201), built.text
    version = built.json()["version"]
    promote = small_server.post("/nbprod/api/jobs/pair/promotions",
                                {"version": version, "stage": "dev"}, user="carol")
    assert promote.status_code == 403
    assert promote.json()["error"]["type"] == "NotAllowed"
    audit = small_server.get("/nbprod/api/audit?job=pair", user="carol").json()
    assert any(e["user"] == "carol" and e["action"] == "promote" and
               e["outcome"] == "not_allowed" for e in audit)


def test_a_user_removed_from_the_settings_loses_access(tmp_path: Path) -> None:
    from .conftest import SMALL_SETTINGS, start_server

    root = small_project(tmp_path / "proj")
    tokens = user_tokens()
    write_settings(root, SMALL_SETTINGS, tokens)
    server = start_server(root, tmp_path, tokens)
    try:
        session = _login(server, "bob")
        assert session.get(server.url("/nbprod/api/me"), timeout=30).status_code == 200
        assert server.get("/nbprod/api/me", user="bob").status_code == 200
        write_settings(root, SMALL_SETTINGS, {k: v for k, v in tokens.items() if k != "bob"})
        assert session.get(server.url("/nbprod/api/me"), timeout=30).status_code == 403
        fresh = requests.get(server.url("/nbprod/api/me"), timeout=30,
                             headers={"Authorization": f"token {tokens['bob']}"})
        assert fresh.status_code == 403
    finally:
        server.stop()


def test_the_registry_records_who_did_what(small_server: Server) -> None:
    """The audit rows a server writes name the authenticated user (read from the database)."""
    small_server.post("/nbprod/api/jobs/pair/versions", {}, user="alice")
    database = small_server.root / ".nbprod" / "registry.db"
    with sqlite3.connect(database) as conn:
        users = {row[0] for row in conn.execute("SELECT user FROM audit WHERE job = 'pair'")}
    assert "alice" in users


def test_nbprod_serve_exposes_no_other_jupyter_resource(small_server: Server) -> None:
    """A dashboard user cannot reach kernels, terminals or files through `nbprod serve`."""
    for method, path in (("GET", "/api/kernels"), ("POST", "/api/kernels"),
                         ("GET", "/api/contents"), ("GET", "/api/sessions"),
                         ("POST", "/api/terminals"), ("GET", "/files/nbprod.toml"),
                         ("GET", "/api/kernelspecs")):
        for user in ("alice", "admin"):
            reply = small_server.session(user).request(method, small_server.url(path),
                                                       json={}, timeout=30,
                                                       allow_redirects=False)
            assert reply.status_code in (403, 404), (method, path, user, reply.status_code)
    assert small_server.get("/api/status", user="carol").status_code == 200
