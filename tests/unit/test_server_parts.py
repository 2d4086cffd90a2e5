"""The server's pure parts: error answers, local redirects, roles as permissions, what pages
show (durations, sizes, values) and the value chart's SVG."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tornado import web

from nbprod.api.access import permissions
from nbprod.api.browse import SeriesPoint
from nbprod.api.project import Project
from nbprod.config import Settings, server_users
from nbprod.errors import (
    Conflict,
    GateFailed,
    IntegrityError,
    NotAllowed,
    NotFound,
    ParameterError,
    SettingsError,
)
from nbprod.promote.gates import GateResult
from nbprod.promote.roles import Roles
from nbprod.server import present
from nbprod.server.base import error_status, is_local_path
from nbprod.server.chart import line_chart


def test_errors_map_to_statuses_and_never_carry_a_traceback() -> None:
    cases = [(NotFound("no run matches 'x'"), 404), (ParameterError("bad x"), 400),
             (NotAllowed("carol may not"), 403), (Conflict("moved"), 409),
             (IntegrityError("runs/a", "1" * 64, "2" * 64), 503),
             (web.HTTPError(403, "User is not authorized"), 403)]
    for exc, status in cases:
        code, body = error_status(exc, 500)
        assert code == status and body["message"], exc
    gates = GateFailed("refused", results=[GateResult("lint", False, "no lint result")])
    code, body = error_status(gates, 500)
    assert code == 409 and body["gates"][0]["gate"] == "lint"
    code, body = error_status(RuntimeError("secret path /etc/shadow"), 500)
    assert code == 500 and body["type"] == "InternalError"
    assert "shadow" not in body["message"] and "Traceback" not in body["message"]


@pytest.mark.parametrize("path, local", [
    ("/nbprod/jobs/pipeline", True), ("/nbprod/runs?before=x", True),
    ("//evil.example/x", False), ("/\\evil.example", False), ("https://evil.example", False),
    ("javascript:alert(1)", False), ("/nbprod/\nSet-Cookie: x", False), ("", False)])
def test_only_local_paths_are_redirect_targets(path: str, local: bool) -> None:
    assert is_local_path(path) is local


def _project(tmp_path: Path, roles: dict[str, object] | None) -> Project:
    settings = Settings(project_root=tmp_path, raw={"roles": roles} if roles else {})
    return Project(root=tmp_path, registry_url="sqlite://", store=None,  # type: ignore[arg-type]
                   settings=settings)


def test_roles_become_permissions(tmp_path: Path) -> None:
    open_project = permissions(_project(tmp_path, None), "anyone")
    assert open_project.view and open_project.run and open_project.approve
    assert open_project.allows("promote", "production") and not open_project.admin
    project = _project(tmp_path, {"admins": ["ada"], "runners": ["rita"], "viewers": ["vic"],
                                  "approvers": ["abe"], "promote": {"staging": ["pat"]}})
    vic = permissions(project, "vic")
    assert vic.view and not (vic.run or vic.approve or vic.allows("promote", "staging"))
    assert permissions(project, "rita").run
    pat = permissions(project, "pat")
    assert pat.view and pat.allows("promote", "staging") and not pat.allows("promote", "prod")
    assert permissions(project, "abe").approve
    ada = permissions(project, "ada")
    assert ada.admin and ada.run and ada.allows("promote", "anything")
    nobody = permissions(project, "mallory")
    assert not (nobody.view or nobody.run or nobody.allows("promote", "staging"))
    with pytest.raises(NotAllowed, match="mallory may not view in this project"):
        nobody.require("view")
    with pytest.raises(SettingsError, match=r"\[tool.nbprod.roles\].viewers must be a list"):
        Roles.from_table({"viewers": "everyone"})


def test_declared_users_must_hold_hashes_not_tokens(tmp_path: Path) -> None:
    good = Settings(project_root=tmp_path, raw={"server": {"users": {
        "alice": "sha256:0011aa:" + "ab" * 32}}})
    assert server_users(good) == {"alice": "sha256:0011aa:" + "ab" * 32}
    for users, message in (({"bob": "plain-token"}, "must be a hashed token"),
                           ({"b b": "sha256:00:aa"}, "is not a user name")):
        with pytest.raises(SettingsError, match=message):
            server_users(Settings(project_root=tmp_path, raw={"server": {"users": users}}))
    with pytest.raises(SettingsError, match="unknown setting 'port'"):
        server_users(Settings(project_root=tmp_path, raw={"server": {"port": 1}}))


def test_what_pages_show() -> None:
    assert present.duration(None) == present.NONE and present.duration(3.25) == "3.2 s"
    assert present.duration(125) == "2 min 05 s" and present.duration(7300) == "2 h 01 min"
    assert present.size(512) == "512 B" and present.size(2048) == "2.0 KB"
    assert present.number(0.953488372) == "0.9535" and present.number(True) == "true"
    assert present.precise(0.9534883720930233) == "0.9534883721"
    assert present.pairs({"a": 1, "b": 2.5, "c": "x", "d": 4}) == "a=1  b=2.5  c=x  (+1)"
    long_ago = dt.datetime(2020, 1, 2, 3, 4, tzinfo=dt.UTC)
    assert present.ago(long_ago) == "2020-01-02 03:04" and present.ago("not a time") == \
        present.NONE
    assert present.when("2020-01-02T03:04:05+00:00") == "2020-01-02 03:04:05 UTC"


def test_the_chart_links_each_run_and_escapes_every_text() -> None:
    points = [SeriesPoint(f"run-{i}", "failed" if i == 1 else "succeeded", float(i),
                          {"label": "<script>x</script>"}) for i in range(3)]
    svg = line_chart(points, name="acc<b>", link=lambda run_id: f"/nbprod/runs/{run_id}",
                     highlight={"run-2"})
    assert svg.startswith("<svg") and svg.count("<circle") == 3
    assert svg.count('href="/nbprod/runs/run-') == 3
    assert svg.count('stroke="#fb8500"') == 1  # the compared run, ringed
    assert 'fill="#cf222e"' in svg  # the failed run, red
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "acc&lt;b&gt;" in svg
    assert line_chart([], name="x", link=str) == ""
    single = line_chart(points[:1], name="x", link=str)
    assert single.count("<circle") == 1
