"""Benchmark: the dashboard with 100,000 runs in the registry.

    python bench/server_runs.py [--runs 100000] [--repeat 30]

Seeds a fresh SQLite registry with ``--runs`` finished runs (5 notebooks, 4 users, mixed
states, 3 values each), starts ``nbprod serve`` on it, then measures:

- the first page of ``GET /nbprod/api/runs`` (50 runs) as *server time* (the handler's own
  ``Server-Timing`` header: from the request's arrival to its last byte), unfiltered, filtered
  by notebook and state, and a page 1,000 pages deep (cursor) to show it does not grow;
- the runs page (``/nbprod/runs``) loaded in chromium (navigation start to the load event);
- for scale, in the same run: jupyter_server's own ``GET /api/status`` on the same server
  (the floor any extension pays), and ``nbprod runs --last 50 --json`` (the same first page
  through the terminal, a whole process).

Prints medians and the ratios. Nothing is asserted: a regression shows up here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from nbprod.records import new_run_id
from nbprod.registry import Registry
from nbprod.registry.schema import run_values, runs

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
NOTEBOOKS = [f"notebooks/{n}.ipynb" for n in ("prepare", "train", "evaluate", "report", "score")]
USERS = ["alice", "bob", "carol", "dave"]


def seed(url: str, count: int) -> float:
    """``count`` finished runs straight into the registry (bulk inserts); seconds taken."""
    registry = Registry.open(url)
    started = time.perf_counter()
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    chunk: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    with registry.engine.begin() as conn:
        for i in range(count):
            when = start + dt.timedelta(seconds=30 * i)
            run_id = new_run_id(when)
            state = "failed" if i % 17 == 0 else "succeeded"
            chunk.append({
                "run_id": run_id, "notebook": NOTEBOOKS[i % len(NOTEBOOKS)],
                "notebook_version": f"{i % 40:064x}", "state": state,
                "failure": {"kind": "cell_error", "message": "cell 3 raised ValueError"}
                if state == "failed" else None,
                "parameters": {"n_estimators": 10 + i % 90, "seed": i % 7},
                "contract": [], "input_digests": {}, "user": USERS[i % len(USERS)],
                "host": "bench", "started_at": when,
                "ended_at": when + dt.timedelta(seconds=5 + i % 20)})
            values += [{"run_id": run_id, "name": name, "value": v, "number": v}
                       for name, v in (("accuracy", 0.8 + (i % 100) / 1000),
                                       ("f1", 0.7 + (i % 50) / 500), ("rows", float(i % 500)))]
            if len(chunk) == 5000:
                conn.execute(runs.insert(), chunk)
                conn.execute(run_values.insert(), values)
                chunk, values = [], []
        if chunk:
            conn.execute(runs.insert(), chunk)
            conn.execute(run_values.insert(), values)
    with registry.engine.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
    registry.close()
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(project: Path, work: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBPROD_", "JUPYTER_"))}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        (work / name.lower()).mkdir(exist_ok=True)
        env[name] = str(work / name.lower())
    args = [sys.executable, "-m", "nbprod.server", str(project), f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0",
            "--ServerApp.log_level=WARN"]
    if os.geteuid() == 0:
        args.append("--allow-root")
    proc = subprocess.Popen(args, cwd=project, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{base}/api/status", timeout=2,
                            headers={"Authorization": f"token {token}"}).ok:
                return proc, base, token
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("the server did not start")


def server_ms(session: requests.Session, url: str, repeat: int) -> tuple[float, float]:
    """Medians of (server time from Server-Timing, client wall time), in milliseconds."""
    server, client = [], []
    session.get(url, timeout=30).raise_for_status()  # warm
    for _ in range(repeat):
        started = time.perf_counter()
        reply = session.get(url, timeout=30)
        client.append((time.perf_counter() - started) * 1000)
        reply.raise_for_status()
        timing = reply.headers.get("Server-Timing", "")
        server.append(float(timing.split("dur=")[1]) if "dur=" in timing else float("nan"))
    return statistics.median(server), statistics.median(client)


def status_ms(session: requests.Session, base: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        session.get(f"{base}/api/status", timeout=30).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def page_load_ms(base: str, token: str, repeat: int) -> float | None:
    """Median ms from navigation start to the load event of /nbprod/runs in chromium."""
    if not Path(CHROMIUM).exists():
        print("  (no /usr/bin/chromium: the page load is not measured)")
        return None
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page()
        page.goto(f"{base}/nbprod/runs?token={token}")  # logs in (cookie), warms the cache
        for _ in range(repeat):
            page.goto(f"{base}/nbprod/runs", wait_until="load")
            timing = page.evaluate("() => { const n = performance.getEntriesByType("
                                   "'navigation')[0]; return n.loadEventEnd - n.startTime; }")
            times.append(float(timing))
        rows = page.locator("#runs tbody tr").count()
        browser.close()
    if rows != 50:
        raise SystemExit(f"the runs page showed {rows} rows, not 50")
    return statistics.median(times)


def cli_ms(project: Path, repeat: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBPROD_")}
    env["NBPROD_WARM"] = "0"
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "nbprod", "runs", "--last", "50",
                               "--json"], cwd=project, env=env, capture_output=True,
                              check=False)
        times.append((time.perf_counter() - started) * 1000)
        if done.returncode != 0 or len(json.loads(done.stdout)) != 50:
            raise SystemExit(f"nbprod runs failed: {done.stderr.decode()[-2000:]}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nbprod-bench-server-") as tmp:
        work = Path(tmp)
        project = work / "project"
        project.mkdir()
        (project / "nbprod.toml").write_text('notebook_dir = "notebooks"\n')
        seconds = seed(f"sqlite:///{project / '.nbprod' / 'registry.db'}", options.runs)
        print(f"seeded {options.runs:,} runs in {seconds:.1f} s")
        proc, base, token = start_server(project, work)
        try:
            session = requests.Session()
            session.headers["Authorization"] = f"token {token}"
            api = f"{base}/nbprod/api/runs"
            deep = session.get(f"{api}?limit=50", timeout=30).json()
            for _ in range(999):  # walk 1,000 pages down for a deep cursor
                deep = session.get(f"{api}?limit=50&before={deep['older']}", timeout=30).json()
            rows = [("first page", f"{api}?limit=50"),
                    ("  by notebook and state",
                     f"{api}?limit=50&notebook=notebooks/train.ipynb&state=failed"),
                    ("  1,000 pages deep", f"{api}?limit=50&before={deep['older']}")]
            floor = status_ms(session, base, options.repeat)
            print(f"\nGET /nbprod/api/runs, {options.runs:,} runs in the registry "
                  f"(medians of {options.repeat})")
            print(f"  {'':28} {'server ms':>10} {'client ms':>10}")
            for label, url in rows:
                server, client = server_ms(session, url, options.repeat)
                print(f"  {label:28} {server:10.1f} {client:10.1f}")
            first_server, first_client = server_ms(session, f"{api}?limit=50", options.repeat)
            load = page_load_ms(base, token, max(5, options.repeat // 2))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        cli = cli_ms(project, 5)
    print(f"\n  jupyter_server GET /api/status (client): {floor:.1f} ms")
    print(f"  nbprod runs --last 50 --json (a process):  {cli:.0f} ms")
    if load is not None:
        print(f"  /nbprod/runs in chromium (navigation to load): {load:.0f} ms")
    print(f"\nfirst API page: {first_server:.1f} ms server time (target < 100 ms), "
          f"{first_client / floor:.1f}x jupyter_server's /api/status, "
          f"{cli / first_client:.0f}x faster than the CLI's process")
    if load is not None:
        print(f"runs page in chromium: {load:.0f} ms (target < 1000 ms)")


if __name__ == "__main__":
    main()
