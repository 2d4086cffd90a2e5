"""The reliability catalogue as a suite (issue 9 §7): one test per case, each asserting what a
user would check — final state and kind, the one-line message naming what and where, the exit
code, registry and store consistent, no process left behind.

Each test names its case (``@pytest.mark.case("kernel SIGKILL")``) and says what it saw with
the ``seen`` fixture; ``make reliability`` ends with the table: case, backend, outcome,
pass/fail. Cases that touch the registry run on SQLite and on PostgreSQL (``backend``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..integration.test_postgres import pg_url  # noqa: F401 - fixture


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The registry URL to use: the project's SQLite file, or a fresh PostgreSQL database."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return ""


@pytest.fixture
def registry_env(backend: str) -> dict[str, str]:
    """``NBPROD_REGISTRY`` for the backend (empty: the project's default SQLite file)."""
    return {"NBPROD_REGISTRY": backend} if backend else {}


@pytest.fixture
def seen(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``seen("failed/kernel_died, exit 3")``: what the case observed, for the table."""
    def record(outcome: str) -> None:
        request.node.user_properties.append(("outcome", outcome))
    return record


def run_processes(run_id: str) -> list[int]:
    """Processes still running for a run (kernels carry NBPROD_RUN_ID in their environment)."""
    marker = f"NBPROD_RUN_ID={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def assert_nothing_left(run_id: str, within: float = 20.0) -> None:
    """No process of the run remains (a kernel of a killed runner exits by itself)."""
    deadline = time.monotonic() + within
    while (left := run_processes(run_id)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"processes of run {run_id} left behind: {left}"


def _case_of(report: pytest.TestReport) -> tuple[str, str] | None:
    for key, value in report.user_properties:
        if key == "case":
            return str(value), "postgres" if "[postgres" in report.nodeid else (
                "sqlite" if "[sqlite" in report.nodeid else "-")
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    marker = item.get_closest_marker("case")
    if (marker is not None and report.when == "call") or (
            marker is not None and report.when == "setup" and report.outcome != "passed"):
        report.user_properties.append(("case", marker.args[0]))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    rows = []
    for status in ("passed", "failed", "error", "skipped", "xfailed", "xpassed"):
        for report in terminalreporter.stats.get(status, []):
            found = _case_of(report)
            if found is None:
                continue
            outcome = next((str(v) for k, v in report.user_properties if k == "outcome"),
                           "" if status == "passed" else str(report.longrepr).splitlines()[-1]
                           if report.longrepr else status)
            if status == "xfailed":
                outcome = str(getattr(report, "wasxfail", ""))[:70]
            result = {"passed": "pass", "xfailed": "xfail"}.get(status, "FAIL")
            rows.append((*found, outcome[:70], result))
    if not rows:
        return
    rows.sort()
    widths = [max(len(r[i]) for r in [("case", "backend", "outcome", "result"), *rows])
              for i in range(4)]
    terminalreporter.section("reliability catalogue")
    for row in [("case", "backend", "outcome", "result"), *rows]:
        terminalreporter.write_line("  ".join(c.ljust(w) for c, w in zip(row, widths,
                                                                       strict=True)))
    passed = sum(1 for r in rows if r[3] == "pass")
    xfailed = sum(1 for r in rows if r[3] == "xfail")
    terminalreporter.write_line(f"reliability catalogue: {passed} of {len(rows)} cases pass"
                                + (f", {xfailed} wait for another issue (xfail)" if xfailed
                                   else ""))
