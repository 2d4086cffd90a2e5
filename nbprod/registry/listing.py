"""Run lists for people: filtered, newest first, a page at a time after a cursor.

A page is ``run_id < :before`` (older) or ``run_id > :after`` (newer), ``LIMIT n + 1`` to know
whether another page follows; with the ``(column, run_id)`` indexes of migration 0005 that is
an index range scan whatever the registry's size. Distinct notebooks and users are read by
skipping through the same indexes (a recursive query), not by scanning every run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .schema import run_values, runs

_FILTERS = ("notebook", "state", "user", "job_run_id", "sweep_id")


@dataclass(frozen=True)
class PageIds:
    """The run ids of one page, newest first, and whether older / newer runs exist."""

    run_ids: list[str]
    has_older: bool
    has_newer: bool


def page_ids(conn: Connection, filters: Mapping[str, str | None], *, before: str | None,
             after: str | None, limit: int) -> PageIds:
    """One page of run ids matching ``filters`` exactly (see the module docstring)."""
    query = sa.select(runs.c.run_id)
    for name in _FILTERS:
        value = filters.get(name)
        if value:
            query = query.where(runs.c[name] == value)
    if after and not before:
        rows = conn.execute(query.where(runs.c.run_id > after)
                            .order_by(runs.c.run_id.asc()).limit(limit + 1)).scalars().all()
        ids = list(reversed(rows[:limit]))
        return PageIds(ids, has_older=True, has_newer=len(rows) > limit)
    if before:
        query = query.where(runs.c.run_id < before)
    rows = conn.execute(query.order_by(runs.c.run_id.desc()).limit(limit + 1)).scalars().all()
    return PageIds(list(rows[:limit]), has_older=len(rows) > limit, has_newer=bool(before))


def distinct(conn: Connection, column: str, limit: int = 200) -> list[str]:
    """Distinct non-null values of a runs column, sorted, via its index (skip scan)."""
    if column not in ("notebook", "user"):
        raise ValueError(f"no index to list distinct {column!r}")
    col = conn.dialect.identifier_preparer.quote(column)
    sql = sa.text(
        f"WITH RECURSIVE seen(v) AS ("
        f" SELECT MIN({col}) FROM runs"
        f" UNION ALL"
        f" SELECT (SELECT MIN({col}) FROM runs WHERE {col} > seen.v) FROM seen"
        f" WHERE seen.v IS NOT NULL)"
        f" SELECT v FROM seen WHERE v IS NOT NULL LIMIT :limit")
    return [str(v) for v in conn.execute(sql, {"limit": limit}).scalars()]


@dataclass(frozen=True)
class SeriesPoint:
    """One run's numeric value, for a chart across a notebook's runs."""

    run_id: str
    state: str
    value: float
    parameters: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "state": self.state, "value": self.value,
                "parameters": dict(self.parameters)}


def value_series(conn: Connection, notebook: str, name: str, limit: int) -> list[SeriesPoint]:
    """The numeric value ``name`` of the newest ``limit`` runs of ``notebook``, oldest first."""
    query = (sa.select(runs.c.run_id, runs.c.state, runs.c.parameters, run_values.c.number)
             .join(run_values, run_values.c.run_id == runs.c.run_id)
             .where(runs.c.notebook == notebook, run_values.c.name == name,
                    run_values.c.number.is_not(None))
             .order_by(runs.c.run_id.desc()).limit(limit))
    rows = conn.execute(query).all()
    return [SeriesPoint(r.run_id, r.state, float(r.number), dict(r.parameters or {}))
            for r in reversed(rows)]


def value_names(conn: Connection, notebook: str, recent: int = 200) -> list[str]:
    """Names of numeric values the newest ``recent`` runs of ``notebook`` recorded."""
    newest = (sa.select(runs.c.run_id).where(runs.c.notebook == notebook)
              .order_by(runs.c.run_id.desc()).limit(recent).subquery())
    query = (sa.select(run_values.c.name).distinct()
             .where(run_values.c.run_id.in_(sa.select(newest.c.run_id)),
                    run_values.c.number.is_not(None))
             .order_by(run_values.c.name))
    return [str(n) for n in conn.execute(query).scalars()]
