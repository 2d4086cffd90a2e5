"""The server on a PostgreSQL registry: runs started and listed through the API, a page
rendered, a promotion recorded, as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import postgres_database
from .conftest import (
    SMALL_SETTINGS,
    Server,
    small_project,
    start_server,
    user_tokens,
    write_settings,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def pg_server(tmp_path: Path) -> Iterator[Server]:
    with postgres_database("nbprod_srv") as url:
        root = small_project(tmp_path / "proj")
        tokens = user_tokens()
        write_settings(root, SMALL_SETTINGS, tokens)
        server = start_server(root, tmp_path, tokens, env={"NBPROD_REGISTRY": url})
        try:
            yield server
        finally:
            server.stop()


def test_runs_pages_and_promotion_on_postgresql(pg_server: Server) -> None:
    task = pg_server.post("/nbprod/api/runs", {"notebook": "ok", "parameters": {"x": 4}},
                          user="alice").json()
    final = pg_server.wait_task(task)["last"]
    assert final["state"] == "succeeded"
    page = pg_server.get("/nbprod/api/runs?user=alice", user="carol").json()
    assert [r["run_id"] for r in page["runs"]] == [final["run_id"]]
    assert page["runs"][0]["values"] == {"x2": 8, "label": "a"}
    choices = pg_server.get("/nbprod/api/run-choices", user="carol").json()
    assert choices["notebooks"] == ["ok.ipynb"] and choices["users"] == ["alice"]
    html = pg_server.get(f"/nbprod/runs/{final['run_id']}", user="carol")
    assert html.status_code == 200 and final["run_id"] in html.text
    version = pg_server.post("/nbprod/api/jobs/pair/versions", {}, user="alice").json()
    moved = pg_server.post("/nbprod/api/jobs/pair/promotions",
                           {"version": version["version"], "stage": "dev"}, user="alice")
    assert moved.status_code == 200 and moved.json()["moved"] is True
    audit = pg_server.get("/nbprod/api/audit?job=pair", user="carol").json()
    assert [(e["user"], e["action"]) for e in audit[:2]] == [("alice", "promote"),
                                                             ("alice", "build")]
    assert not (pg_server.root / ".nbprod" / "registry.db").exists()  # all in PostgreSQL
