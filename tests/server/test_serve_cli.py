"""``nbprod serve`` as a user runs it: the URL it prints, the pages it serves, a teammate's
token made with ``--new-token``, and a clear error for a folder that does not exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from ..conftest import run_cli
from .conftest import ROLES, SMALL_SETTINGS, free_port, server_env, small_project

pytestmark = pytest.mark.slow


def test_new_token_prints_a_token_and_the_hash_to_declare(tmp_path: Path) -> None:
    made = run_cli(tmp_path, "serve", "--new-token", "dana")
    assert made.returncode == 0, made.stderr
    token = re.search(r"^  (\S+)$", made.stdout, re.MULTILINE)
    line = re.search(r'^  dana = "(sha256:[0-9a-f]+:[0-9a-f]{64})"$', made.stdout, re.MULTILINE)
    assert token and line, made.stdout
    from jupyter_server.auth.security import passwd_check

    assert passwd_check(line.group(1), token.group(1))
    bad = run_cli(tmp_path, "serve", "--new-token", "da na")
    assert bad.returncode == 2
    assert bad.stderr.strip() == ("nbprod: error: 'da na' is not a user name; use letters, "
                                  "digits, '.', '_', '@' and '-'")


def test_nbprod_serve_prints_its_url_and_serves_the_dashboard(tmp_path: Path) -> None:
    root = small_project(tmp_path / "proj")
    made = run_cli(tmp_path, "serve", "--new-token", "dana")
    token = re.search(r"^  (\S+)$", made.stdout, re.MULTILINE).group(1)  # type: ignore[union-attr]
    declared = re.search(r'^  (dana = ".*")$', made.stdout, re.MULTILINE).group(1)  # type: ignore[union-attr]
    (root / "nbprod.toml").write_text(f"{SMALL_SETTINGS}\n{ROLES.replace('carol', 'dana')}\n"
                                      f"[server.users]\n{declared}\n")
    port = free_port()
    args = [sys.executable, "-m", "nbprod", "serve", str(root), f"--ServerApp.port={port}"]
    if os.geteuid() == 0:
        args.append("--allow-root")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=tmp_path, env=server_env(tmp_path), stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            found = re.search(rf"http://127\.0\.0\.1:{port}/nbprod/\?token=\w+", log.read_text())
            url = found.group(0) if found else None
            time.sleep(0.2)
        assert url, log.read_text()
        assert requests.get(url.split("?")[0], allow_redirects=False, timeout=30).status_code \
            == 302  # the login page, without the token
        page = requests.get(f"http://127.0.0.1:{port}/nbprod/notebooks", timeout=30,
                            headers={"Authorization": f"token {token}"})
        assert page.status_code == 200 and "slow.ipynb" in page.text
        assert "dana" in page.text and "viewer" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_folder_that_does_not_exist_is_one_clear_line(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "serve", str(tmp_path / "missing"))
    assert done.returncode == 2
    assert "does not exist" in done.stderr and "Traceback" not in done.stderr


def test_every_link_keeps_the_server_s_base_url(tmp_path: Path) -> None:
    """Under JupyterHub a server lives at /user/NAME/: pages, links, forms, events, redirects
    and the OpenAPI servers all stay under it."""
    from .conftest import start_server, user_tokens, write_settings

    root = small_project(tmp_path / "proj")
    tokens = user_tokens()
    write_settings(root, SMALL_SETTINGS, tokens)
    server = start_server(root, tmp_path, tokens, base_url="/user/dana/")
    try:
        task = server.post("/nbprod/api/runs", {"notebook": "ok"}, user="alice")
        assert task.headers["Location"].startswith("/user/dana/nbprod/api/tasks/")
        run_id = server.wait_task(task.json())["last"]["run_id"]
        for path in ("/nbprod/runs", f"/nbprod/runs/{run_id}", "/nbprod/jobs/pair",
                     "/nbprod/notebooks/ok"):
            html = server.get(path, user="alice").text
            links = re.findall(r'(?:href|src|action|data-progress-url)="(/[^"]*)"', html)
            assert links, path
            outside = [link for link in links if not link.startswith("/user/dana/")]
            assert not outside, (path, outside)
        built = server.session("alice").post(server.url("/nbprod/jobs/pair/build"),
                                            allow_redirects=False, timeout=60)
        assert built.headers["Location"] == "/user/dana/nbprod/jobs/pair"
        document = server.get("/nbprod/api/openapi.json", user="carol").json()
        assert all(path.startswith("/user/dana/nbprod/api/") for path in document["paths"])
    finally:
        server.stop()
