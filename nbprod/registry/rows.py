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
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..records import ArtifactRef, Failure, Lineage, RunRecord, utcnow
from .schema import run_artifacts, run_values, runs

Locate = Callable[[str], str]
_A = TypeVar("_A")
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
        values = self._values(rows, contiguous, self.json)
        where = locate or _identity
        artifacts = self._artifacts(rows, contiguous, lambda name, key, sha, size: ArtifactRef(
            name=name, location=where(key), sha256=sha, size=size))
        return [self._record(row, values.get(row[0], {}), tuple(artifacts.get(row[0], ())))
                for row in rows]

    def json_lines(self, query: sa.Select[Any], locate: Locate | None = None,
                   *, contiguous: bool = False) -> list[tuple[str, bytes]]:
        """What :meth:`records` returns, each as ``(run_id, JSON of RunRecord.to_json())``,
        built straight from the rows (a test holds the two equal): on SQLite the JSON columns'
        stored text goes into the output as it is (``orjson.Fragment``), never decoded.

        This is the whole cost of ``nbprod runs --all --json``, so it is written for speed:
        one loop over each table's rows, no per-field helper calls on SQLite."""
        rows = self._all(query)
        values = self._values(rows, contiguous, _fragment if self.raw else self.json)
        where = locate or _identity
        artifacts = self._artifacts(rows, contiguous, lambda name, key, sha, size: {
            "name": name, "path": where(key), "sha256": sha, "size": size})
        line = _stored_line if self.raw else self._line
        no_values: dict[str, Any] = {}
        no_artifacts: list[dict[str, Any]] = []
        return [(row[0], line(row, values.get(row[0], no_values),
                              artifacts.get(row[0], no_artifacts))) for row in rows]

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
                decode: Callable[[Any], Any]) -> dict[str, dict[str, Any]]:
        """Each run's values (``decode`` turns a stored value into what the caller keeps)."""
        found: dict[str, dict[str, Any]] = {}
        columns = (run_values.c.run_id, run_values.c.name, self.column(run_values.c.value))
        for condition in self._ids(run_values, rows, contiguous):
            last, current = None, {}
            for run_id, name, value in self._all(
                    sa.select(*columns).where(condition)
                    .order_by(run_values.c.run_id, run_values.c.name)):
                if run_id != last:  # ordered by run: one lookup per run, not per value
                    last, current = run_id, found.setdefault(run_id, {})
                current[name] = decode(value)
        return found

    def _artifacts(self, rows: Sequence[Any], contiguous: bool,
                   make: Callable[[str, str, str, int], _A]) -> dict[str, list[_A]]:
        """Each run's artifacts, in name order, as ``make(name, key, sha256, size)``."""
        found: dict[str, list[_A]] = {}
        table = run_artifacts
        for condition in self._ids(table, rows, contiguous):
            last, current = None, []
            for run_id, name, key, sha, size in self._all(
                    sa.select(table.c.run_id, table.c.name, table.c.key, table.c.sha256,
                              table.c.size).where(condition)
                    .order_by(table.c.run_id, table.c.name)):
                if run_id != last:
                    last, current = run_id, found.setdefault(run_id, [])
                current.append(make(name, key, sha, size))
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
        """The JSON of ``self._record(row, ...).to_json()``, without the objects (decoded
        rows: not SQLite, whose rows :func:`_stored_line` writes)."""
        failure = row[4]
        return _encode(_document(
            row, Failure.from_json(failure).to_json() if failure else None,
            _times(self.time(row[17]), self.time(row[18])),
            [_decoded_or(row[i], empty) for i, empty in ((5, {}), (6, []), (21, {}), (11, {}))],
            values, artifacts))


_Times = tuple[str, str | None, float | None]
_EMPTY_TEXT = frozenset((None, "null", "{}", "[]"))
_Fragment = orjson.Fragment
_fromisoformat = dt.datetime.fromisoformat
_stored = _STORED.fullmatch


def _stored_line(row: Sequence[Any], values: dict[str, Any],
                 artifacts: list[dict[str, Any]]) -> bytes:
    """:meth:`RowReader._line` of a SQLite row: the JSON columns' stored text copied as it
    is (an empty one as ``{}`` or ``[]``), timestamps rewritten from SQLAlchemy's text."""
    failure, started, ended = row[4], row[17], row[18]
    if failure is not None:
        decoded = _json_text(failure)
        failure = Failure.from_json(decoded).to_json() if decoded else None
    times: _Times
    if _stored(started) and (ended is None or _stored(ended)):
        times = (_iso(started), None, None) if ended is None else (
            _iso(started), _iso(ended),
            (_fromisoformat(ended) - _fromisoformat(started)).total_seconds())
    else:
        times = _times(_time_text(started), _time_text(ended))
    empty, parameters, contract, upstream, inputs = _EMPTY_TEXT, row[5], row[6], row[21], row[11]
    return _encode(_document(row, failure, times, [
        {} if parameters in empty else _Fragment(parameters),
        [] if contract in empty else _Fragment(contract),
        {} if upstream in empty else _Fragment(upstream),
        {} if inputs in empty else _Fragment(inputs)], values, artifacts))


def _times(started: dt.datetime | None, ended: dt.datetime | None) -> _Times:
    """``started_at``, ``ended_at`` and ``duration`` as ``RunRecord.to_json`` writes them."""
    start = started or utcnow()
    return (start.isoformat(), ended.isoformat() if ended else None,
            (ended - start).total_seconds() if ended else None)


def _encode(document: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(document)
    except TypeError:  # an integer past 64 bits (decoded rows, a failure), as json writes it
        return json.dumps(document).encode()


def _document(row: Sequence[Any], failure: dict[str, Any] | None,
              times: _Times, kept: list[Any],
              values: dict[str, Any], artifacts: list[dict[str, Any]]) -> dict[str, Any]:
    """``RunRecord.to_json()`` of a row whose failure, times and JSON columns (parameters,
    contract, upstream, input_digests) are already as it writes them."""
    (run_id, notebook, notebook_version, state, _failure, _parameters, _contract, git_commit,
     git_dirty, environment_digest, python, _input_digests, kernel, user, host, runner_pid,
     note, _started_at, _ended_at, job_run_id, step, _upstream, sweep_id, point,
     run_key) = row
    return {
        "run_id": run_id, "notebook": notebook, "notebook_version": notebook_version,
        "state": state, "failure": failure,
        "started_at": times[0], "ended_at": times[1], "duration": times[2],
        "parameters": kept[0], "contract": kept[1], "values": values, "artifacts": artifacts,
        "lineage": {"upstream": kept[2], "git_commit": git_commit,
                    "git_dirty": None if git_dirty is None else bool(git_dirty),
                    "environment_digest": environment_digest, "python": python,
                    "input_digests": kept[3], "kernel": kernel,
                    "user": user, "host": host, "runner_pid": runner_pid},
        "note": note, "job_run_id": job_run_id, "step": step, "sweep_id": sweep_id,
        "point": point, "run_key": run_key, "cache_hit": False,
    }


def _iso(stored: str) -> str:
    """``2026-02-12 19:44:12.000000`` (SQLAlchemy's SQLite text, UTC) as
    ``datetime.isoformat()`` of that UTC time: ``2026-02-12T19:44:12+00:00``."""
    text = stored[:10] + "T" + stored[11:]
    return (text[:-7] if text.endswith(".000000") else text) + "+00:00"


def _fragment(value: str | float | None) -> Any:
    """A value column's stored JSON text, to be written as it is (numbers come as numbers)."""
    return orjson.Fragment(value) if isinstance(value, str) else value


def _decoded_or(value: Any, empty: dict[str, Any] | list[Any]) -> Any:
    return type(empty)(value or empty)
