"""Runs in the registry: created before the kernel starts, finished once, never changed after.

Finishing is a compare-and-swap (``state = 'running'`` → final state), written in the same
transaction as the run's values and artifacts, so a reader sees a run either running or
complete. A run whose runner vanished is turned into ``lost`` by :meth:`Registry.reap_lost`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .. import collector
from ..errors import NotFound
from ..records import (
    Failure,
    ProfileRecord,
    RunnerIdentity,
    RunRecord,
    utcnow,
)
from . import db, listing
from .checks import CheckStore
from .jobs import JobStore
from .monitor import MonitorStore, insert_profiles
from .rows import Locate, RowReader
from .schema import environments, run_artifacts, run_values, runs

# `nbprod show latest`, `nbprod diff latest~1 latest`: run ids start with a digit, never clash.
_LATEST = re.compile(r"latest(?:~(\d{1,6}))?")
_T = TypeVar("_T")


class Registry:
    """Runs, values, artifacts and environments in one SQL database."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url
        self.checks = CheckStore(engine, url)
        self.jobs = JobStore(engine, url)
        self.monitor = MonitorStore(engine, url)

    @classmethod
    def open(cls, url: str, *, busy_timeout: float = 30.0) -> Registry:
        return cls(db.connect(url, busy_timeout=busy_timeout), url)

    def close(self) -> None:
        db.release(self.engine)

    # -- writing ---------------------------------------------------------------------------

    def create_run(self, record: RunRecord, *, runner: RunnerIdentity,
                   run_key: str | None = None) -> None:
        """Insert a ``running`` run (committed before its kernel starts)."""
        lineage = record.lineage
        with db.writing(self.engine, self.url) as conn:
            conn.execute(runs.insert().values(
                run_id=record.run_id, notebook=record.notebook,
                notebook_version=record.notebook_version, state=record.state,
                failure=record.failure.to_json() if record.failure else None,
                parameters=dict(record.parameters), contract=list(record.contract),
                git_commit=lineage.git_commit, git_dirty=lineage.git_dirty,
                environment_digest=lineage.environment_digest, python=lineage.python,
                input_digests=dict(lineage.input_digests), kernel=lineage.kernel,
                user=lineage.user, host=runner.host, runner_pid=runner.pid,
                runner_start=runner.start, run_key=run_key, note=record.note,
                job_run_id=record.job_run_id, step=record.step, sweep_id=record.sweep_id,
                point=record.point,
                upstream=dict(lineage.upstream) or None,
                started_at=record.started_at, ended_at=record.ended_at,
                heartbeat_at=record.started_at))

    def heartbeat(self, run_id: str) -> None:
        with db.writing(self.engine, self.url) as conn:
            conn.execute(runs.update().where(runs.c.run_id == run_id,
                                             runs.c.state == "running")
                         .values(heartbeat_at=utcnow()))

    def finish_run(self, run_id: str, *, state: str, failure: Failure | None,
                   values: Mapping[str, Any], artifacts: Sequence[tuple[str, str, str, int]],
                   note: str | None = None, ended_at: dt.datetime | None = None,
                   profiles: Sequence[ProfileRecord] = ()) -> bool:
        """Move a running run to its final state with its values and artifacts, atomically.

        ``artifacts`` holds ``(name, key, sha256, size)`` of objects already committed to the
        store (``profiles``: the data profiles among them, summarized). Returns False (and
        writes nothing) if the run was no longer running, for
        instance because it had been declared lost.
        """
        with db.writing(self.engine, self.url) as conn:
            moved = conn.execute(
                runs.update().where(runs.c.run_id == run_id, runs.c.state == "running")
                .values(state=state, failure=failure.to_json() if failure else None,
                        note=note, ended_at=ended_at or utcnow())).rowcount
            if moved != 1:
                return False
            if values:
                conn.execute(run_values.insert(), [
                    {"run_id": run_id, "name": name, "value": value, "number": _number(value)}
                    for name, value in values.items()])
            if artifacts:
                conn.execute(run_artifacts.insert(), [
                    {"run_id": run_id, "name": name, "key": key, "sha256": sha, "size": size}
                    for name, key, sha, size in artifacts])
            insert_profiles(conn, profiles)
        return True

    def record_environment(self, digest: str, python: str, packages: Sequence[str]) -> None:
        """Remember which distributions an environment digest stands for (once)."""
        with db.reading(self.engine, self.url) as conn:
            if conn.execute(sa.select(environments.c.digest)
                            .where(environments.c.digest == digest)).first():
                return
        try:
            with db.writing(self.engine, self.url) as conn:
                if not conn.execute(sa.select(environments.c.digest)
                                    .where(environments.c.digest == digest)).first():
                    conn.execute(environments.insert().values(
                        digest=digest, python=python, packages=list(packages)))
        except db.DuplicateKey:
            # A concurrent writer inserted the same row on PostgreSQL; the content is equal.
            with db.reading(self.engine, self.url) as conn:
                if not conn.execute(sa.select(environments.c.digest)
                                    .where(environments.c.digest == digest)).first():
                    raise

    def environment_packages(self, digest: str) -> list[str] | None:
        with db.reading(self.engine, self.url) as conn:
            row = conn.execute(sa.select(environments.c.packages)
                               .where(environments.c.digest == digest)).first()
        return list(row[0]) if row else None

    def reap_lost(self, is_alive: Callable[[RunnerIdentity], bool | None],
                  stale_before: dt.datetime) -> list[str]:
        """Mark ``lost`` every running run whose runner is gone.

        ``is_alive`` answers for runners it can check (same host): True, False, or None when
        it cannot tell, in which case a heartbeat older than ``stale_before`` decides.
        """
        with db.reading(self.engine, self.url) as conn:
            rows = conn.execute(sa.select(runs.c.run_id, runs.c.host, runs.c.runner_pid,
                                          runs.c.runner_start, runs.c.heartbeat_at)
                                .where(runs.c.state == "running")).all()
        lost: list[str] = []
        for row in rows:
            alive = is_alive(RunnerIdentity(row.host or "", row.runner_pid or 0,
                                            row.runner_start))
            heartbeat = db.aware(row.heartbeat_at) if row.heartbeat_at else None
            if alive is False or (alive is None and heartbeat is not None
                                  and heartbeat < stale_before):
                lost.append(row.run_id)
        reaped = []
        for run_id in lost:
            failure = Failure(kind="lost", message="the process running this notebook vanished "
                                                   "(killed, crashed or its machine stopped)")
            with db.writing(self.engine, self.url) as conn:
                moved = conn.execute(
                    runs.update().where(runs.c.run_id == run_id, runs.c.state == "running")
                    .values(state="lost", failure=failure.to_json(),
                            ended_at=utcnow())).rowcount
            if moved:
                reaped.append(run_id)
        return reaped

    def add_lost_artifacts(self, run_id: str,
                           artifacts: Sequence[tuple[str, str, str, int]]) -> bool:
        """Attach artifacts (``(name, key, sha256, size)``, committed to the store) to a run
        that is ``lost``: what its runner had saved before it vanished, or stored after it
        was declared lost. A name already attached keeps its first file; returns whether
        anything was attached."""
        with db.writing(self.engine, self.url) as conn:
            state = conn.execute(sa.select(runs.c.state).where(runs.c.run_id == run_id)
                                 ).scalar()
            taken = set(conn.execute(sa.select(run_artifacts.c.name).where(
                run_artifacts.c.run_id == run_id,
                run_artifacts.c.name.in_([a[0] for a in artifacts]))).scalars())
            kept = [a for a in artifacts if a[0] not in taken]
            if state != "lost" or not kept:
                return False
            conn.execute(run_artifacts.insert(), [
                {"run_id": run_id, "name": name, "key": key, "sha256": sha, "size": size}
                for name, key, sha, size in kept])
        return True

    # -- reading ---------------------------------------------------------------------------

    def resolve_id(self, ref: str) -> str:
        """A full run id from an id, a prefix, the random suffix (``k3m9x2``), or ``latest``
        (the newest run) and ``latest~N`` (the one N runs before it)."""
        return self._resolve(runs.c.run_id, ref, "run", "`nbprod runs` lists them")

    def resolve_sweep_id(self, ref: str) -> str:
        """A full sweep id from an id, a prefix, its random suffix, or ``latest[~N]``."""
        return self._resolve(runs.c.sweep_id, ref, "sweep",
                             "the sweep's table and `nbprod sweep --json` show its id")

    def _resolve(self, column: sa.Column[Any], ref: str, noun: str, hint: str) -> str:
        latest = _LATEST.fullmatch(ref)
        with db.reading(self.engine, self.url) as conn:
            if latest:
                back = int(latest.group(1) or 0)
                found = conn.execute(sa.select(column).distinct().where(column.is_not(None))
                                     .order_by(column.desc()).offset(back).limit(1)).scalar()
                if found is None:
                    raise NotFound(f"no {noun} is '{ref}' (there are fewer than {back + 1})",
                                   hint=hint)
                return str(found)
            exact = conn.execute(sa.select(column).where(column == ref).limit(1)).first()
            if exact:
                return str(exact[0])
            escaped = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            matches = conn.execute(
                sa.select(column).distinct().where(sa.or_(
                    column.like(f"{escaped}%", escape="\\"),
                    column.like(f"%{escaped}", escape="\\")))
                .order_by(column.desc()).limit(6)).scalars().all()
        if not matches:
            raise NotFound(f"no {noun} matches '{ref}'", hint=hint)
        if len(matches) > 1:
            raise NotFound(f"'{ref}' matches several {noun}s ({', '.join(matches[:5])})",
                           hint="give more characters of the id")
        return str(matches[0])

    def get_run(self, ref: str) -> RunRecord:
        run_id = self.resolve_id(ref)
        records = self.list_runs(run_ids=[run_id])
        return records[0]

    def cached_run(self, run_key: str) -> RunRecord | None:
        """The newest succeeded run with this run key, if any.

        Only ``run_key`` is in the query, so it is answered through its index whatever the
        registry's size. (With ``state = 'succeeded' ORDER BY run_id`` in SQL, SQLite walked
        the ``(state, run_id)`` index instead, checking every succeeded run's key: 0.1-0.2 s
        at 100,000 runs for a miss or an old run.) A key has few runs; the newest succeeded
        one is picked here."""
        with db.reading(self.engine, self.url) as conn:
            found = conn.execute(sa.select(runs.c.run_id, runs.c.state)
                                 .where(runs.c.run_key == run_key)).all()
        run_id = max((r.run_id for r in found if r.state == "succeeded"), default=None)
        return self.list_runs(run_ids=[run_id])[0] if run_id else None

    def list_runs(self, *, notebook: str | None = None, state: str | None = None,
                  limit: int | None = None, run_ids: Iterable[str] | None = None,
                  sweep_id: str | None = None, locate: Locate | None = None
                  ) -> list[RunRecord]:
        """Runs, newest first, with their values and artifacts (``locate`` turns an artifact's
        store key into its location; without it the location is the key)."""
        with db.reading(self.engine, self.url) as conn:
            reader = RowReader(conn)
            return reader.records(_filtered(
                reader.runs_query(), notebook=notebook, state=state, run_ids=run_ids,
                sweep_id=sweep_id, limit=limit), locate)

    def iter_runs(self, *, notebook: str | None = None, state: str | None = None,
                  limit: int | None = None, locate: Locate | None = None,
                  page: int = 500) -> Iterator[RunRecord]:
        """The runs :meth:`list_runs` returns, read ``page`` at a time (after the last run id
        seen) in one snapshot: the first arrive at once and memory holds one page."""
        for records in self._pages(RowReader.records, lambda r: r.run_id, notebook=notebook,
                                   state=state, limit=limit, locate=locate, page=page):
            yield from records

    def iter_run_json(self, *, notebook: str | None = None, state: str | None = None,
                      limit: int | None = None, locate: Locate | None = None,
                      page: int = 500, before: str | None = None,
                      since: str | None = None) -> Iterator[bytes]:
        """:meth:`iter_runs`, each run as the JSON of its ``to_json()`` (built without the
        records: listing 100,000 runs as JSON takes seconds); only run ids below ``before``
        and from ``since`` on, if given."""
        for lines in self._pages(RowReader.json_lines, lambda pair: pair[0], notebook=notebook,
                                 state=state, limit=limit, locate=locate, page=page,
                                 before=before, since=since):
            for _run_id, line in lines:
                yield line

    def split_point(self, *, notebook: str | None = None, state: str | None = None,
                    at_least: int = 2) -> str | None:
        """The run id that splits the runs matching the filters into two halves (the newer
        half from it on), or None for fewer than ``at_least`` runs."""
        with db.reading(self.engine, self.url) as conn:
            count = conn.execute(_filtered(sa.select(sa.func.count()).select_from(runs),
                                           notebook=notebook, state=state, ordered=False)
                                 ).scalar_one()
            if count < max(2, at_least):
                return None
            query = _filtered(sa.select(runs.c.run_id), notebook=notebook, state=state)
            return str(conn.execute(query.offset((count - 1) // 2).limit(1)).scalar_one())

    def _pages(self, build: Callable[..., list[_T]], run_id: Callable[[_T], str], *,
               notebook: str | None, state: str | None, limit: int | None,
               locate: Locate | None, page: int, before: str | None = None,
               since: str | None = None) -> Iterator[list[_T]]:
        """Pages of what ``build`` makes of the runs, newest first; the next page starts
        after the ``run_id`` of the last item (``before``, ``since``: bounds on the run ids,
        the first exclusive). The first page holds ``page`` runs (what prints at once), the
        others four times as many: each page costs three statements, so 100,000 runs read
        500 at a time spent a tenth of their time on them."""
        with db.reading(self.engine, self.url) as conn:
            reader = RowReader(conn)
            first = True
            while limit is None or limit > 0:
                size = page if limit is None else min(page, limit)
                page = 4 * page if first else page
                first = False
                query = _filtered(reader.runs_query(), notebook=notebook, state=state,
                                  limit=size)
                if before is not None:
                    query = query.where(runs.c.run_id < before)
                if since is not None:
                    query = query.where(runs.c.run_id >= since)
                with collector.paused():
                    built = build(reader, query, locate, contiguous=not (notebook or state))
                yield built
                if len(built) < size:
                    return
                before = run_id(built[-1])
                limit = None if limit is None else limit - len(built)

    def page_runs(self, filters: Mapping[str, str | None], *, before: str | None = None,
                  after: str | None = None, limit: int = 50
                  ) -> tuple[list[RunRecord], listing.PageIds]:
        """One page of runs matching ``filters`` exactly, newest first (see listing.py), read
        in one snapshot."""
        with db.reading(self.engine, self.url) as conn:
            page = listing.page_ids(conn, filters, before=before, after=after, limit=limit)
            if not page.run_ids:
                return [], page
            reader = RowReader(conn)
            return reader.records(_filtered(reader.runs_query(), run_ids=page.run_ids)), page

    def distinct(self, column: str) -> list[str]:
        """Distinct notebooks or users that have runs, sorted."""
        with db.reading(self.engine, self.url) as conn:
            return listing.distinct(conn, column)

    def value_series(self, notebook: str, name: str,
                     limit: int = 200) -> list[listing.SeriesPoint]:
        with db.reading(self.engine, self.url) as conn:
            return listing.value_series(conn, notebook, name, limit)

    def value_names(self, notebook: str) -> list[str]:
        with db.reading(self.engine, self.url) as conn:
            return listing.value_names(conn, notebook)

    def latest_run_id(self, notebook: str, state: str = "succeeded") -> str | None:
        """The newest run id of ``notebook`` in ``state`` (one query, no values)."""
        query = _filtered(sa.select(runs.c.run_id), notebook=notebook, state=state, limit=1)
        with db.reading(self.engine, self.url) as conn:
            return conn.execute(query).scalar()


def _filtered(query: sa.Select[Any], *, notebook: str | None = None, state: str | None = None,
              run_ids: Iterable[str] | None = None, sweep_id: str | None = None,
              limit: int | None = None, ordered: bool = True) -> sa.Select[Any]:
    """``query`` over runs, newest first, restricted as ``list_runs`` describes."""
    if ordered:
        query = query.order_by(runs.c.run_id.desc())
    if sweep_id:
        query = query.where(runs.c.sweep_id == sweep_id)
    if notebook:
        query = query.where(sa.or_(runs.c.notebook == notebook,
                                   runs.c.notebook.like(f"%/{notebook}.ipynb"),
                                   runs.c.notebook == f"{notebook}.ipynb"))
    if state:
        query = query.where(runs.c.state == state)
    if run_ids is not None:
        query = query.where(runs.c.run_id.in_(list(run_ids)))
    if limit:
        query = query.limit(limit)
    return query


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None
