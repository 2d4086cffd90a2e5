"""Which kernel templates the cap stops: least recently used first, never a busy one."""

from __future__ import annotations

from typing import Any

from nbprod.kernels.cap import MB, Limits, to_stop


def template(key: str, used: float | None, *, started: float = 0.0, kernels: int = 0,
             memory: int = 100 * MB) -> dict[str, Any]:
    return {"key": key, "used": used, "started": started, "kernels": kernels,
            "memory": memory}


def keys(found: list[dict[str, Any]]) -> list[str]:
    return [t["key"] for t in found]


def test_a_new_template_makes_room_by_stopping_the_least_recently_used() -> None:
    running = [template("a", 30.0), template("b", 10.0), template("c", 20.0)]
    assert keys(to_stop(running, Limits(templates=3), keep="new", starting=True)) == ["b"]
    assert keys(to_stop(running, Limits(templates=1), keep="new", starting=True)) == \
        ["b", "c", "a"]


def test_within_the_cap_nothing_is_stopped() -> None:
    running = [template("a", 30.0), template("b", 10.0)]
    assert to_stop(running, Limits(templates=3), keep="a", starting=False) == []


def test_a_template_that_never_forked_counts_from_its_start() -> None:
    running = [template("a", 5.0), template("b", None, started=1.0), template("new", None)]
    assert keys(to_stop(running, Limits(templates=2), keep="new", starting=False)) == ["b"]


def test_busy_and_kept_templates_are_never_stopped_even_over_the_cap() -> None:
    running = [template("a", 1.0, kernels=2), template("b", 2.0), template("new", None)]
    assert keys(to_stop(running, Limits(templates=1), keep="new", starting=False)) == ["b"]


def test_memory_stops_templates_until_the_total_fits() -> None:
    running = [template("a", 1.0, memory=600 * MB), template("b", 2.0, memory=500 * MB),
               template("new", None, memory=700 * MB)]
    limits = Limits(templates=10, memory=1300 * MB)
    assert keys(to_stop(running, limits, keep="new", starting=False)) == ["a"]
    assert keys(to_stop(running, Limits(templates=10, memory=100 * MB), keep="new",
                        starting=False)) == ["a", "b"]
