"""Secret parameters reach the kernel and appear nowhere else (issue 9 §1, DESIGN.md).

A run is given two distinctive secrets — one marked ``# nbprod: secret`` in the contract and
given with ``-p``, one given through ``NBPROD_SECRET_API_TOKEN`` — and the notebook uses them,
prints them, records them and raises with them. Then every byte under ``.nbprod/`` (files, the
SQLite file and its WAL), a dump of every registry table (SQLite and PostgreSQL), and everything
the commands printed (text and ``--json``) are searched for them.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ..conftest import run_cli, write_notebook
from ..integration.test_postgres import pg_url  # noqa: F401 - fixture

pytestmark = pytest.mark.slow
PASSWORD = "pw-Zq81-x7c0ffee"
TOKEN = "tok-Jt44-deadbeef"


def _notebook(path: Path) -> None:
    write_notebook(
        path,
        'db_password: str = ""  # the database password; nbprod: secret\n'
        'api_token: str = ""  # from NBPROD_SECRET_API_TOKEN\n'
        "fail: bool = False\n"
        "n: int = 1",
        "import sys, nbprod\n"
        "nbprod.record('pw_len', len(db_password))\n"
        "nbprod.record('token_len', len(api_token))\n"
        "nbprod.record('echo', {'pw': db_password, 'list': [api_token]})\n"
        "print('connecting with', db_password, api_token)\n"
        "print('stderr', db_password, file=sys.stderr)\n"
        "display({'text/html': f'<b>{db_password}</b>'}, raw=True)\n"
        "db_password",
        "if fail:\n    raise ValueError(f'bad {db_password} {api_token}')")


def _dump(url: str) -> str:
    """Every row of every registry table, as text."""
    engine = sa.create_engine(url)
    try:
        rows = []
        with engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                    rows.append(f"{table}: {tuple(row)!r}")
        return "\n".join(rows)
    finally:
        engine.dispose()


def _assert_absent(where: str, data: bytes | str) -> None:
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    for secret in (PASSWORD, TOKEN):
        assert secret.encode() not in raw, f"{secret} found in {where}"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.postgres)])
def test_secret_values_appear_nowhere(project_dir: Path, backend: str,
                                      request: pytest.FixtureRequest) -> None:
    env = {"NBPROD_SECRET_API_TOKEN": TOKEN}
    url = f"sqlite:///{project_dir / '.nbprod' / 'registry.db'}"
    if backend == "postgres":
        url = request.getfixturevalue("pg_url")
        env["NBPROD_REGISTRY"] = url
    _notebook(project_dir / "secret.ipynb")
    outputs: list[tuple[str, str]] = []

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        proc = run_cli(project_dir, *args, env=env)
        outputs.append((" ".join(args), proc.stdout + proc.stderr))
        return proc

    ok = cli("run", "secret.ipynb", "-p", "db_password", PASSWORD, "--json")
    assert ok.returncode == 0, ok.stderr
    record: dict[str, Any] = json.loads(ok.stdout)
    assert record["values"]["pw_len"] == len(PASSWORD)  # the kernel got both
    assert record["values"]["token_len"] == len(TOKEN)
    assert record["values"]["echo"] == {"pw": "***", "list": ["***"]}
    assert record["parameters"] == {"db_password": "***", "api_token": "***"}
    failed = cli("run", "secret.ipynb", "-p", "db_password", PASSWORD, "-p", "fail", "true",
                 "--json")
    assert failed.returncode == 3, failed.stderr
    assert json.loads(failed.stdout)["failure"]["evalue"] == "bad *** ***"
    assert cli("run", "secret.ipynb", "-p", "db_password", PASSWORD).returncode == 0  # text
    sweep = cli("sweep", "secret.ipynb", "--grid", "n=1,2", "-p", "db_password", PASSWORD,
                "--json")
    assert sweep.returncode == 0, sweep.stderr
    for args in (("runs", "--json"), ("runs",), ("show", record["run_id"], "--json"),
                 ("show", record["run_id"], "--verify"), ("diff", record["run_id"],
                                                          json.loads(failed.stdout)["run_id"])):
        assert cli(*args).returncode == 0, outputs[-1]
    for command, text in outputs:
        _assert_absent(f"the output of nbprod {command}", text)
    files = [p for p in (project_dir / ".nbprod").rglob("*") if p.is_file()]
    assert any(p.name == "notebook.ipynb" for p in files)
    assert any(p.name == "kernel.log" for p in files)
    for path in files:
        _assert_absent(str(path), path.read_bytes())
    _assert_absent(f"the registry {backend}", _dump(url))
    notebook = next(p for p in files if p.name == "notebook.ipynb").read_text()
    assert "__import__('os').environ['NBPROD_SECRET_DB_PASSWORD']" in notebook
    assert os.environ.get("NBPROD_SECRET_API_TOKEN") is None  # nothing leaked into the tests
