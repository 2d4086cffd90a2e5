"""Sweep tasks carry only what a run needs; secrets travel only over a private channel.

Issue 9 §1: Dask tasks carried the whole ``os.environ`` (cloud credentials, tokens) to the
scheduler and the workers over plain TCP.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from nbprod.api import Project
from nbprod.api.sweep import run_sweep, validate_points
from nbprod.errors import InvalidInput
from nbprod.executors.dask import is_private
from nbprod.executors.forkpool import Outcome


class _Recording:
    """An executor that runs nothing: it keeps each task as it would be sent (pickled)."""

    name = "recording"

    def __init__(self, private: bool = True) -> None:
        self.private = private
        self.sent: list[bytes] = []

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[tuple[str, Any]], *,
            timeout: float, on_done: Callable[[Outcome[Any]], None] | None = None,
            stop_when: Callable[[], bool] | None = None) -> list[Outcome[Any]]:
        self.sent += [pickle.dumps(task) for _key, task in tasks]
        outcomes = [Outcome(key, skipped=True, error="not run") for key, _ in tasks]
        for outcome in outcomes:
            if on_done is not None:
                on_done(outcome)
        return outcomes

    def close(self) -> None:
        pass


_ENV = {"LEAKY_TOKEN": "leak-77f0", "HOME": "/root", "NBPROD_TIMEOUT": "300",
        "AWS_REGION": "eu-west-3", "NBPROD_SECRET_DB_PASSWORD": "pw-4411"}


def _sweep(project: Project, executor: _Recording, pass_env: tuple[str, ...] = ()) -> None:
    assert project.settings is not None
    settings = dataclasses.replace(project.settings, pass_env=pass_env)
    points = validate_points(project, "ok.ipynb", {}, [{}])
    run_sweep(project, settings, _ENV, "ok.ipynb", points, executor)


@pytest.mark.slow
def test_tasks_carry_nbprod_variables_and_pass_env_only(project: Project) -> None:
    executor = _Recording()
    _sweep(project, executor, pass_env=("AWS_*",))
    [sent] = executor.sent
    assert b"leak-77f0" not in sent and b"/root" not in sent
    environ = pickle.loads(sent).environ
    assert environ == {"NBPROD_TIMEOUT": "300", "AWS_REGION": "eu-west-3",
                       "NBPROD_SECRET_DB_PASSWORD": "pw-4411"}


@pytest.mark.slow
def test_secrets_are_not_sent_over_an_unencrypted_connection(project: Project) -> None:
    executor = _Recording(private=False)
    with pytest.raises(InvalidInput, match=r"NBPROD_SECRET_DB_PASSWORD .* unencrypted") as caught:
        _sweep(project, executor)
    assert "tls://" in caught.value.one_line()
    assert executor.sent == []


@pytest.mark.parametrize(("address", "private"), [
    (None, True), ("tls://10.1.2.3:8786", True), ("tcp://127.0.0.1:8786", True),
    ("tcp://localhost:8786", True), ("tcp://[::1]:8786", True), ("inproc://x", True),
    ("tcp://10.1.2.3:8786", False), ("tcp://sched.example:8786", False),
    ("10.1.2.3:8786", False)])
def test_which_scheduler_addresses_are_private(address: str | None, private: bool) -> None:
    assert is_private(address) is private
