"""Run rows into :class:`~nbprod.records.RunRecord`, a page at a time, cheaply.

Listing 100,000 runs spends its time turning rows into records, not in the database, so this
reads only the columns a record holds and, on SQLite, takes the JSON and timestamp columns as
the text SQLite stores and decodes them here (``json.loads``, ``datetime.fromisoformat``)
instead of through SQLAlchemy's per-value processors. Other databases' drivers decode them
natively; their rows go through the usual types. A record's artifact locations are filled in
by the caller's ``locate`` (the store's), so a record is built once, complete.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..records import ArtifactRef, Failure, Lineage, RunRecord, utcnow
from .schema import run_artifacts, run_values, runs

Locate = Callable[[str], str]
_CHUNK = 500  # ids per IN (...) list
_JSON_OR_TIME = (sa.JSON, sa.DateTime)
_LONG_DIGITS = re.compile(r"[0-9]{19}")
# How SQLAlchemy stores a DateTime in SQLite (naive, UTC here).
_STORED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}")


def _identity(value: Any) -> Any:
    return value


def _json_text(value: str | float | None) -> Any:
    # A JSON column has numeric affinity in SQLite: a number comes back as a number.
    if not isinstance(value, str):
        return value
    if value == "null":  # the commonest text, with "{}" (new objects: not shared)
        return None
    if value == "{}":
        return {}
    if _LONG_DIGITS.search(value):  # maybe an integer past 64 bits: orjson would round it
        return json.loads(value)
    return orjson.loads(value)


def _time_text(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# The runs columns a record holds, in the order :meth:`RowReader._record` unpacks them.
_RUN_COLUMNS = ("run_id", "notebook", "notebook_version", "state", "failure", "parameters",
                "contract", "git_commit", "git_dirty", "environment_digest", "python",
                "input_digests", "kernel", "user", "host", "runner_pid", "note", "started_at",
                "ended_at", "job_run_id", "step", "upstream", "sweep_id", "point", "run_key")


class RowReader:
    """Select and decode run rows the fastest way the connection's dialect allows."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.raw = conn.dialect.name == "sqlite"
        self.json: Callable[[Any], Any] = _json_text if self.raw else _identity
        self.time: Callable[[Any], dt.datetime | None] = _time_text if self.raw else _aware

    def column(self, column: sa.Column[Any]) -> sa.ColumnElement[Any]:
        if self.raw and isinstance(column.type, _JSON_OR_TIME):
            return sa.type_coerce(column, sa.String).label(column.name)
        return column

    def runs_query(self) -> sa.Select[Any]:
        """``SELECT`` of the runs columns a record holds (filtered and ordered by the caller;
        the first is ``run_id``)."""
        return sa.select(*(self.column(runs.c[name]) for name in _RUN_COLUMNS))

    def records(self, query: sa.Select[Any], locate: Locate | None = None,
                *, contiguous: bool = False) -> list[RunRecord]:
        """The runs ``query`` (from :meth:`runs_query`) selects, with values and artifacts.

        ``contiguous``: the query selects every run between its first and last id, so their
        values and artifacts are read as one range of ids instead of a list of them.
        """
        rows = self._all(query)
        values = self._values(rows, contiguous)
        artifacts = self._artifacts(rows, contiguous)
        where = locate or _identity
        return [self._record(row, values.get(row[0], {}), tuple(
            ArtifactRef(name=name, location=where(key), sha256=sha, size=size)
            for name, key, sha, size in artifacts.get(row[0], ()))) for row in rows]

    def json_lines(self, query: sa.Select[Any], locate: Locate | None = None,
                   *, contiguous: bool = False) -> list[tuple[str, bytes]]:
        """What :meth:`records` returns, each as ``(run_id, JSON of RunRecord.to_json())``,
        built straight from the rows (a test holds the two equal): on SQLite the JSON columns'
        stored text goes into the output as it is (``orjson.Fragment``), never decoded."""
        rows = self._all(query)
        values = self._values(rows, contiguous, verbatim=True)
        artifacts = self._artifacts(rows, contiguous)
        where = locate or _identity
        lines = []
        for row in rows:
            refs = [{"name": name, "path": where(key), "sha256": sha, "size": size}
                    for name, key, sha, size in artifacts.get(row[0], ())]
            lines.append((row[0], self._line(row, values.get(row[0], {}), refs)))
        return lines

    def _all(self, query: sa.Select[Any]) -> Sequence[Sequence[Any]]:
        """The rows of ``query``; on SQLite the driver's own tuples (no result processing:
        the columns that need it are decoded here, booleans included)."""
        result = self.conn.execute(query)
        try:
            return result.cursor.fetchall() if self.raw else result.all()
        finally:
            result.close()

    def _ids(self, table: sa.Table, rows: Sequence[Any],
             contiguous: bool) -> list[sa.ColumnElement[bool]]:
        """Conditions on ``table.run_id`` for the runs of ``rows``, in chunks."""
        if not rows:
            return []
        if contiguous:
            ends = (rows[0][0], rows[-1][0])
            return [table.c.run_id.between(min(ends), max(ends))]
        ids = [row[0] for row in rows]
        return [table.c.run_id.in_(ids[start:start + _CHUNK])
                for start in range(0, len(ids), _CHUNK)]

    def _values(self, rows: Sequence[Any], contiguous: bool,
                verbatim: bool = False) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        columns = (run_values.c.run_id, run_values.c.name, self.column(run_values.c.value))
        decode = _fragment if verbatim and self.raw else self.json
        for condition in self._ids(run_values, rows, contiguous):
            for run_id, name, value in self._all(
                    sa.select(*columns).where(condition)
                    .order_by(run_values.c.run_id, run_values.c.name)):
                found.setdefault(run_id, {})[name] = decode(value)
        return found

    def _artifacts(self, rows: Sequence[Any],
                   contiguous: bool) -> dict[str, list[tuple[str, str, str, int]]]:
        found: dict[str, list[tuple[str, str, str, int]]] = {}
        table = run_artifacts
        for condition in self._ids(table, rows, contiguous):
            for run_id, name, key, sha, size in self._all(
                    sa.select(table.c.run_id, table.c.name, table.c.key, table.c.sha256,
                              table.c.size).where(condition)
                    .order_by(table.c.run_id, table.c.name)):
                found.setdefault(run_id, []).append((name, key, sha, size))
        return found

    def _record(self, row: Sequence[Any], values: dict[str, Any],
                artifacts: tuple[ArtifactRef, ...]) -> RunRecord:
        (run_id, notebook, notebook_version, state, failure, parameters, contract, git_commit,
         git_dirty, environment_digest, python, input_digests, kernel, user, host, runner_pid,
         note, started_at, ended_at, job_run_id, step, upstream, sweep_id, point,
         run_key) = row
        decode, time = self.json, self.time
        failure = decode(failure)
        return RunRecord(
            run_id=run_id, notebook=notebook, notebook_version=notebook_version,
            state=state, started_at=time(started_at) or utcnow(), ended_at=time(ended_at),
            failure=Failure.from_json(failure) if failure else None,
            parameters=dict(decode(parameters) or {}), contract=list(decode(contract) or []),
            values=values, artifacts=artifacts,
            lineage=Lineage(git_commit=git_commit,
                            git_dirty=None if git_dirty is None else bool(git_dirty),
                            environment_digest=environment_digest, python=python,
                            input_digests=dict(decode(input_digests) or {}), kernel=kernel,
                            user=user, host=host, runner_pid=runner_pid,
                            upstream=dict(decode(upstream) or {})),
            note=note, job_run_id=job_run_id, step=step, sweep_id=sweep_id, point=point,
            run_key=run_key)

    def _line(self, row: Sequence[Any], values: dict[str, Any],
              artifacts: list[dict[str, Any]]) -> bytes:
        """The JSON of ``self._record(row, ...).to_json()``, without the objects."""
        (run_id, notebook, notebook_version, state, failure, parameters, contract, git_commit,
         git_dirty, environment_digest, python, input_digests, kernel, user, host, runner_pid,
         note, started_at, ended_at, job_run_id, step, upstream, sweep_id, point,
         run_key) = row
        keep = _kept if self.raw else _decoded_or
        failure = self.json(failure)
        started, ended, duration = self._times(started_at, ended_at)
        document = {
            "run_id": run_id, "notebook": notebook, "notebook_version": notebook_version,
            "state": state,
            "failure": Failure.from_json(failure).to_json() if failure else None,
            "started_at": started, "ended_at": ended, "duration": duration,
            "parameters": keep(parameters, {}), "contract": keep(contract, []),
            "values": values, "artifacts": artifacts,
            "lineage": {"upstream": keep(upstream, {}), "git_commit": git_commit,
                        "git_dirty": None if git_dirty is None else bool(git_dirty),
                        "environment_digest": environment_digest, "python": python,
                        "input_digests": keep(input_digests, {}), "kernel": kernel,
                        "user": user, "host": host, "runner_pid": runner_pid},
            "note": note, "job_run_id": job_run_id, "step": step, "sweep_id": sweep_id,
            "point": point, "run_key": run_key, "cache_hit": False,
        }
        try:
            return orjson.dumps(document)
        except TypeError:  # decoded (not SQLite): an integer past 64 bits, as json writes it
            return json.dumps(document).encode()


    def _times(self, started_at: Any, ended_at: Any) -> tuple[str, str | None, float | None]:
        """``started_at`` and ``ended_at`` as ``RunRecord.to_json`` writes them (ISO, UTC),
        and the duration; SQLite's stored text is rewritten, not parsed and formatted."""
        if self.raw and _STORED.fullmatch(started_at) and (
                ended_at is None or _STORED.fullmatch(ended_at)):
            duration = None if ended_at is None else (
                dt.datetime.fromisoformat(ended_at)
                - dt.datetime.fromisoformat(started_at)).total_seconds()
            return _iso(started_at), None if ended_at is None else _iso(ended_at), duration
        started, ended = self.time(started_at) or utcnow(), self.time(ended_at)
        return (started.isoformat(), ended.isoformat() if ended else None,
                (ended - started).total_seconds() if ended else None)


def _iso(stored: str) -> str:
    """``2026-02-12 19:44:12.000000`` (SQLAlchemy's SQLite text, UTC) as
    ``datetime.isoformat()`` of that UTC time: ``2026-02-12T19:44:12+00:00``."""
    text = stored[:10] + "T" + stored[11:]
    return (text[:-7] if text.endswith(".000000") else text) + "+00:00"


def _fragment(value: str | float | None) -> Any:
    """A value column's stored JSON text, to be written as it is (numbers come as numbers)."""
    return orjson.Fragment(value) if isinstance(value, str) else value


def _kept(value: str | None, empty: dict[str, Any] | list[Any]) -> Any:
    """``dict(decoded or {})`` (or ``list``) of a JSON column, as its stored text."""
    if value is None or value in ("null", "{}", "[]"):
        return empty
    return orjson.Fragment(value)


def _decoded_or(value: Any, empty: dict[str, Any] | list[Any]) -> Any:
    return type(empty)(value or empty)
